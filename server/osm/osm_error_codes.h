#ifndef OSM_SERVER_OSM_OSM_ERROR_CODES_H_
#define OSM_SERVER_OSM_OSM_ERROR_CODES_H_

#include <grpcpp/support/status.h>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace osm {

// An error code that OSM or its API gateway (APIG) puts in `error_code`, and
// what the adapter makes of it.
struct OsmErrorCode {
  absl::string_view code;
  // The gRPC code it means.
  grpc::StatusCode grpc_code;
  // When true, a non-2xx HTTP status decides the gRPC code instead, because
  // the error code alone is ambiguous (APIGW.0201 covers 400, 413 and 504).
  bool http_status_decides;
  // ErrorInfo.reason: UPPER_SNAKE_CASE, stable, what clients switch on.
  absl::string_view reason;
  absl::string_view meaning;
};

// Every error code in OSM's API reference. This table is the one place to
// extend when OSM documents a new code.
absl::Span<const OsmErrorCode> KnownOsmErrorCodes();

// The entry for `code` (exact match), or nullptr.
const OsmErrorCode* FindOsmErrorCode(absl::string_view code);

}  // namespace osm

#endif  // OSM_SERVER_OSM_OSM_ERROR_CODES_H_
