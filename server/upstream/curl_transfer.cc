#include "server/upstream/curl_transfer.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace osm {
namespace {

// libcurl reads each answer into a buffer of this size that every easy handle
// keeps (16 KiB by default), one handle per call in flight. OSM's answers are
// headers and a small JSON body: 4 KiB takes most in one read, and larger ones
// take more reads, never less data.
constexpr long kReceiveBufferBytes = 4096;

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<CurlTransfer*>(user);
  const std::size_t bytes = size * count;
  std::string& body = transfer->response.body;
  if (body.size() + bytes > transfer->request.max_response_body_bytes) {
    // CURLOPT_MAXFILESIZE does not stop a chunked body: stop it here.
    transfer->response.body_truncated = true;
    return CURL_WRITEFUNC_ERROR;
  }
  body.append(data, bytes);
  return bytes;
}

// Keeps the headers the request asked for. Called once per header line, for
// the status line of every response (interim ones included) too.
std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<CurlTransfer*>(user);
  const std::size_t bytes = size * count;
  const absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    transfer->response.headers.clear();
    transfer->headers_complete = false;
    return bytes;
  }
  if (line == "\r\n" || line == "\n") {
    transfer->headers_complete = true;
    return bytes;
  }
  const std::size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return bytes;
  const absl::string_view name = line.substr(0, colon);
  for (absl::string_view kept : transfer->request.response_headers) {
    if (absl::EqualsIgnoreCase(name, kept)) {
      transfer->response.headers.emplace_back(
          std::string(kept), std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
      break;
    }
  }
  return bytes;
}

// A transport failure as the UpstreamClient contract describes it.
absl::Status TransportError(CURLcode code, const CurlTransfer& transfer) {
  const char* detail = transfer.error[0] != '\0' ? transfer.error : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(
          absl::StrCat("no complete answer within ", transfer.timeout_ms, " ms"));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:  // how 7.88 reports an answer that is not HTTP
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return absl::UnavailableError(detail);
    case CURLE_PEER_FAILED_VERIFICATION:
      return absl::UnavailableError(
          absl::StrCat("the upstream's TLS certificate was not trusted: ", detail));
    default:
      return absl::InternalError(detail);
  }
}

}  // namespace

CurlEasy NewEasyHandle(const EasyHandleOptions& options) {
  CurlEasy easy(curl_easy_init());
  if (easy == nullptr) return nullptr;
  CURL* raw = easy.get();
  curl_easy_setopt(raw, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(raw, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(raw, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(raw, CURLOPT_PROTOCOLS_STR, options.scheme.c_str());
  curl_easy_setopt(raw, CURLOPT_REDIR_PROTOCOLS_STR, options.scheme.c_str());
  curl_easy_setopt(raw, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)));
  curl_easy_setopt(raw, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(raw, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(raw, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  if (options.open_socket != nullptr) {
    curl_easy_setopt(raw, CURLOPT_OPENSOCKETFUNCTION, options.open_socket);
    curl_easy_setopt(raw, CURLOPT_OPENSOCKETDATA, options.socket_data);
  }
  if (options.close_socket != nullptr) {
    curl_easy_setopt(raw, CURLOPT_CLOSESOCKETFUNCTION, options.close_socket);
    curl_easy_setopt(raw, CURLOPT_CLOSESOCKETDATA, options.socket_data);
  }
  curl_easy_setopt(raw, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(raw, CURLOPT_SSL_VERIFYHOST, 2L);
  if (options.tls_sessions != nullptr) curl_easy_setopt(raw, CURLOPT_SHARE, options.tls_sessions);
  if (!options.ca_file.empty()) curl_easy_setopt(raw, CURLOPT_CAINFO, options.ca_file.c_str());
  if (options.http2) {
    curl_easy_setopt(
        raw, CURLOPT_HTTP_VERSION,
        options.scheme == "https" ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    // Wait for a multiplexed connection rather than opening another. Never
    // with HTTP/1.1: every transfer would wait for the first one's answer.
    curl_easy_setopt(raw, CURLOPT_PIPEWAIT, 1L);
  } else {
    curl_easy_setopt(raw, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  }
  return easy;
}

absl::Status CurlTransfer::Attach(CurlEasy handle, long attempt_timeout_ms) {
  easy = std::move(handle);
  for (const std::string& header : request.headers) {
    curl_slist* appended = curl_slist_append(header_list.get(), header.c_str());
    if (appended == nullptr) return absl::InternalError("out of memory");
    (void)header_list.release();  // now part of `appended`
    header_list.reset(appended);
  }
  ++attempts;
  timeout_ms = attempt_timeout_ms;
  CURL* raw = easy.get();
  // The method: a reused handle keeps the last one unless told otherwise.
  if (request.method == "GET") {
    curl_easy_setopt(raw, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(raw, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(raw, CURLOPT_POST, 1L);
    curl_easy_setopt(raw, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(raw, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    curl_easy_setopt(raw, CURLOPT_CUSTOMREQUEST,
                     request.method == "POST" ? nullptr : request.method.c_str());
  }
  curl_easy_setopt(raw, CURLOPT_URL, request.url.c_str());
  // libcurl 7.88 sends a request again, unasked, when the kept-alive
  // connection it reused dies before the first byte of the answer; the
  // upstream may have read it already. A new connection is never reused.
  curl_easy_setopt(raw, CURLOPT_FRESH_CONNECT, request.fresh_connection ? 1L : 0L);
  curl_easy_setopt(raw, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(raw, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(raw, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(raw, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(raw, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(raw, CURLOPT_PRIVATE, this);
  return absl::OkStatus();
}

CurlEasy CurlTransfer::Release() {
  if (easy != nullptr) {
    // Nothing of this transfer may be reached from the handle's next use.
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, nullptr);
  }
  header_list.reset();
  return std::move(easy);
}

void CurlTransfer::ResetForRetry() {
  error[0] = '\0';
  response = HttpResponse();
  headers_complete = false;
}

bool FailedBeforeSending(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_SSL_CONNECT_ERROR;
}

bool FailedWithoutAnswer(CURLcode code) {
  return FailedBeforeSending(code) || code == CURLE_GOT_NOTHING || code == CURLE_SEND_ERROR ||
         code == CURLE_RECV_ERROR;
}

absl::StatusOr<HttpResponse> TakeOutcome(CURLcode code, CurlTransfer& transfer) {
  long status = 0;
  if (transfer.easy != nullptr)
    curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  if (code == CURLE_OK && !transfer.headers_complete) {
    // libcurl 7.88 reports success for a response whose headers were cut
    // off by the connection closing; it is no answer at all.
    return absl::UnavailableError("the connection closed before the end of the response headers");
  }
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.response.body_truncated)) {
    return std::move(transfer.response);
  }
  return TransportError(code, transfer);
}

}  // namespace osm
