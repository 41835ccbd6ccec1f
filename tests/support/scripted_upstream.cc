#include "tests/support/scripted_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace osm::testing {
namespace {

// Peer-close notifications go to the upstream that owns the exchange.
thread_local ScriptedUpstream* current_upstream = nullptr;

// One connection's bytes: in the clear, or through TLS when `tls` is set.
struct Wire {
  int fd;
  SSL* tls;

  // Like recv(): > 0 bytes read, 0 at the end of the stream, < 0 on error.
  ssize_t Read(char* buffer, std::size_t size) const {
    if (tls == nullptr) return recv(fd, buffer, size, 0);
    const int got = SSL_read(tls, buffer, static_cast<int>(size));
    if (got > 0) return got;
    return SSL_get_error(tls, got) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }

  bool WriteAll(absl::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t written = tls == nullptr
                                  ? send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL)
                                  : SSL_write(tls, bytes.data(), static_cast<int>(bytes.size()));
      if (written <= 0) {
        if (written < 0 && tls == nullptr && errno == EINTR) continue;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
  }
};

// A server context for `tls`, or an abort: the test cannot run without it.
SSL_CTX* NewServerContext(const UpstreamTls& tls) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  BIO* cert_bio = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
  X509* certificate = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO* key_bio = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  static constexpr unsigned char kSessionContext[] = "scripted-upstream";
  const bool ok =
      context != nullptr && certificate != nullptr && key != nullptr &&
      SSL_CTX_use_certificate(context, certificate) == 1 &&
      SSL_CTX_use_PrivateKey(context, key) == 1 && SSL_CTX_check_private_key(context) == 1 &&
      SSL_CTX_set_session_id_context(context, kSessionContext, sizeof(kSessionContext) - 1) == 1;
  X509_free(certificate);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  if (!ok) {
    ERR_print_errors_fp(stderr);
    std::abort();
  }
  return context;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// Reads one request from `fd` into `request`, with `buffer` holding bytes
// already read. False at end of stream or on a malformed request.
bool ReadRequest(const Wire& wire, std::string& buffer, RecordedRequest& request) {
  std::size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    char chunk[4096];
    const ssize_t got = wire.Read(chunk, sizeof(chunk));
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(buffer).substr(0, header_end), "\r\n");
  std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ');
  if (request_line.size() != 3) return false;
  request.method = std::string(request_line[0]);
  request.target = std::string(request_line[1]);
  request.version = std::string(request_line[2]);
  std::size_t content_length = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) return false;
    std::string name(lines[i].substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (absl::EqualsIgnoreCase(name, "content-length") &&
        !absl::SimpleAtoi(value, &content_length)) {
      return false;
    }
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  buffer.erase(0, header_end + 4);
  while (buffer.size() < content_length) {
    char chunk[4096];
    const ssize_t got = wire.Read(chunk, sizeof(chunk));
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  request.body = buffer.substr(0, content_length);
  buffer.erase(0, content_length);
  return true;
}

}  // namespace

std::optional<std::string> RecordedRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

int RecordedRequest::HeaderCount(absl::string_view name) const {
  return static_cast<int>(std::count_if(headers.begin(), headers.end(), [&](const auto& header) {
    return absl::EqualsIgnoreCase(header.first, name);
  }));
}

void UpstreamExchange::Respond(int status, absl::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string response = absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&response, name, ": ", value, "\r\n");
  absl::StrAppend(&response, "Content-Length: ", body.size(), "\r\n\r\n", body);
  Write(response);
}

bool UpstreamExchange::Write(absl::string_view bytes) { return Wire{fd_, tls_}.WriteAll(bytes); }

void UpstreamExchange::Close() { closed_ = true; }

void UpstreamExchange::Reset() {
  linger option{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  shutdown(fd_, SHUT_RDWR);
  closed_ = true;
}

bool UpstreamExchange::WaitForPeerClose(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd entry{fd_, POLLIN | POLLRDHUP, 0};
    const int ready = poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char byte;
    // Over TLS the close comes as a close_notify record: read it.
    const ssize_t got = tls_ != nullptr ? Wire{fd_, tls_}.Read(&byte, 1)
                                        : recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
      closed_ = true;
      if (current_upstream != nullptr) current_upstream->NotePeerClose();
      return true;
    }
    if (got > 0) {
      // The client sent more (a pipelined request): not a close. Avoid a busy
      // loop by consuming nothing and waiting for the rest of the time-out.
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
}

ScriptedUpstream::ScriptedUpstream() { Listen(); }

ScriptedUpstream::ScriptedUpstream(const UpstreamTls& tls) {
  // OpenSSL writes with send() without MSG_NOSIGNAL: a client gone away must
  // not end the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  tls_ = NewServerContext(tls);
  Listen();
}

void ScriptedUpstream::Listen() {
  SetHandler([this](UpstreamExchange& exchange) {
    exchange.Respond(200, kSuccessBody,
                     {{"Content-Type", "application/json"},
                      {"X-Request-Id", absl::StrCat("req-", request_count())}});
  });
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listen_fd_, 4096) != 0) {
    std::abort();
  }
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

ScriptedUpstream::~ScriptedUpstream() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  shutdown(listen_fd_, SHUT_RDWR);
  accept_thread_.join();
  close(listen_fd_);
  {
    MutexLock lock(&mu_);
    threads.swap(connection_threads_);
  }
  for (std::thread& thread : threads) thread.join();
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

std::string ScriptedUpstream::base_url() const {
  return absl::StrCat(tls_ != nullptr ? "https" : "http", "://127.0.0.1:", port_);
}

void ScriptedUpstream::SetHandler(Handler handler) {
  MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

std::vector<RecordedRequest> ScriptedUpstream::requests() const {
  MutexLock lock(&mu_);
  return requests_;
}

int ScriptedUpstream::request_count() const {
  MutexLock lock(&mu_);
  return static_cast<int>(requests_.size());
}

int ScriptedUpstream::connections_accepted() const {
  MutexLock lock(&mu_);
  return connections_accepted_;
}

int ScriptedUpstream::peer_closes_seen() const {
  MutexLock lock(&mu_);
  return peer_closes_;
}

int ScriptedUpstream::tls_handshakes() const {
  MutexLock lock(&mu_);
  return tls_handshakes_;
}

int ScriptedUpstream::tls_resumed_handshakes() const {
  MutexLock lock(&mu_);
  return tls_resumed_;
}

int ScriptedUpstream::tls_failed_handshakes() const {
  MutexLock lock(&mu_);
  return tls_failed_;
}

bool ScriptedUpstream::WaitForFailedHandshakes(int n, absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return tls_failed_ >= n;
  });
}

bool ScriptedUpstream::WaitForRequests(int n, absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return static_cast<int>(requests_.size()) >= n;
  });
}

bool ScriptedUpstream::WaitForPeerCloses(int n, absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return peer_closes_ >= n;
  });
}

void ScriptedUpstream::NotePeerClose() {
  MutexLock lock(&mu_);
  ++peer_closes_;
  changed_.NotifyAll();
}

void ScriptedUpstream::AcceptLoop() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    ++connections_accepted_;
    open_fds_.push_back(fd);
    connection_threads_.emplace_back([this, fd] { ServeConnection(fd); });
  }
}

void ScriptedUpstream::ServeConnection(int fd) {
  current_upstream = this;
  SSL* tls = nullptr;
  bool serving = true;
  if (tls_ != nullptr) {
    tls = SSL_new(tls_);
    serving = tls != nullptr && SSL_set_fd(tls, fd) == 1 && SSL_accept(tls) == 1;
    ERR_clear_error();
    MutexLock lock(&mu_);
    if (serving) {
      ++tls_handshakes_;
      if (SSL_session_reused(tls) == 1) ++tls_resumed_;
    } else {
      ++tls_failed_;
    }
    changed_.NotifyAll();
  }
  const Wire wire{fd, tls};
  std::string buffer;
  while (serving) {
    RecordedRequest request;
    if (!ReadRequest(wire, buffer, request)) break;
    Handler handler;
    {
      MutexLock lock(&mu_);
      requests_.push_back(request);
      handler = handler_;
      changed_.NotifyAll();
    }
    UpstreamExchange exchange(fd, tls, std::move(request));
    handler(exchange);
    if (exchange.closed_) break;
  }
  if (tls != nullptr) SSL_free(tls);
  MutexLock lock(&mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

void ReleaseGate::Open() {
  MutexLock lock(&mu_);
  open_ = true;
  changed_.NotifyAll();
}

bool ReleaseGate::Wait(absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return open_;
  });
}

RefusingPort::RefusingPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::abort();  // the test cannot run without it
  }
  port_ = ntohs(address.sin_port);
}

RefusingPort::~RefusingPort() { close(fd_); }

bool RefusingPort::Listen() { return listen(fd_, 8) == 0; }

}  // namespace osm::testing
