#ifndef OSM_SERVER_UPSTREAM_UPSTREAM_URL_H_
#define OSM_SERVER_UPSTREAM_UPSTREAM_URL_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/upstream/http_types.h"

namespace osm {

// Checks and parses an upstream base URL (with libcurl's URL parser): http
// or https, a host, no user info, query or fragment. The scheme comes back
// in lower case, the prefix without a trailing slash. The error never
// repeats a password.
absl::StatusOr<UpstreamUrl> ParseUpstreamUrl(absl::string_view url);

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_UPSTREAM_URL_H_
