#ifndef OSM_SERVER_UPSTREAM_HTTP_TYPES_H_
#define OSM_SERVER_UPSTREAM_HTTP_TYPES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace osm {

// One upstream request. The method is always POST with an empty body: the
// adapter only makes calls of that form.
struct HttpRequest {
  std::string url;
  // Complete header lines, "Name: value", exactly as they go on the wire.
  std::vector<std::string> headers;
  // The transfer is aborted with DEADLINE_EXCEEDED when this passes.
  absl::Time deadline = absl::InfiniteFuture();
};

// What came back from the upstream, when something did.
struct HttpResponse {
  int status = 0;
  // At most the client's body limit; see `body_truncated`.
  std::string body;
  // The body was larger than the limit and was not read to its end.
  bool body_truncated = false;
  // The `X-Request-Id` header (matched case-insensitively), or empty.
  std::string request_id;
  // The `Retry-After` header, or empty.
  std::string retry_after;
};

// The largest response body the adapter reads; larger ones are cut off.
inline constexpr std::size_t kMaxResponseBodyBytes = 1 << 20;

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_HTTP_TYPES_H_
