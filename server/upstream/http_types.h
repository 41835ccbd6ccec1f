#ifndef OSM_SERVER_UPSTREAM_HTTP_TYPES_H_
#define OSM_SERVER_UPSTREAM_HTTP_TYPES_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace osm {

// The upstream's base URL, parsed once at start-up (ParseUpstreamUrl).
struct UpstreamUrl {
  std::string scheme;     // "http" or "https", lower case
  std::string authority;  // host[:port], as the Host header carries it
  std::string prefix;     // a path before every request's path: "" or "/a/b"

  // scheme://authority[prefix]: what a request's path is appended to.
  std::string base() const { return scheme + "://" + authority + prefix; }
};

// The default limit on a response body; larger ones are cut off.
inline constexpr std::size_t kMaxResponseBodyBytes = 1 << 20;

// One upstream request. The transport sends it as given; it knows nothing of
// what the headers or the body mean.
struct HttpRequest {
  std::string method = "POST";
  std::string url;
  // Complete header lines, "Name: value", exactly as they go on the wire.
  std::vector<std::string> headers;
  std::string body;
  // The response headers to keep (names in lower case); the others are
  // dropped as they arrive. Must outlive the transfer: a static list.
  absl::Span<const absl::string_view> response_headers;
  // The transfer is aborted with DEADLINE_EXCEEDED when this passes.
  absl::Time deadline = absl::InfiniteFuture();
  // The largest body read; a larger one is cut off (body_truncated).
  std::size_t max_response_body_bytes = kMaxResponseBodyBytes;
  // Sending the request twice does no harm (a read): a transfer that failed
  // after sending, with no answer (connection reset, nothing received), is
  // tried again like one that failed before sending.
  bool idempotent = false;
  // Sent on a new connection, never on a kept-alive one: libcurl would
  // silently send it again if a reused connection died before the answer.
  // For what must never be sent twice.
  bool fresh_connection = false;
};

// What came back from the upstream, when something did.
struct HttpResponse {
  int status = 0;
  // The headers the request asked to keep, in arrival order, names in
  // lower case, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  // At most the client's body limit; see `body_truncated`.
  std::string body;
  // The body was larger than the limit and was not read to its end.
  bool body_truncated = false;

  // The last value of header `name` (lower case), or "".
  absl::string_view header(absl::string_view name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return {};
  }
};

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_HTTP_TYPES_H_
