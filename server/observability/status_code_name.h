#ifndef OSM_SERVER_OBSERVABILITY_STATUS_CODE_NAME_H_
#define OSM_SERVER_OBSERVABILITY_STATUS_CODE_NAME_H_

#include <grpcpp/support/status_code_enum.h>

#include "absl/strings/string_view.h"

namespace osm {

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND, and so on: the names the
// access log and the metrics' labels use.
absl::string_view StatusCodeName(grpc::StatusCode code);

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_STATUS_CODE_NAME_H_
