#include "server/osm/osm_error_codes.h"

namespace osm {
namespace {

using grpc::StatusCode;

constexpr OsmErrorCode kKnownCodes[] = {
    // OSM business errors: reported with HTTP 200.
    {"OSM.01010001", StatusCode::INVALID_ARGUMENT, false, "INVALID_PARAMETER",
     "parameter validation failed"},
    {"OSM.01010002", StatusCode::PERMISSION_DENIED, false, "OPERATION_NOT_PERMITTED",
     "no permission for the operation"},
    {"OSM.01010011", StatusCode::UNAUTHENTICATED, false, "CUSTOMER_NOT_FOUND_FOR_TOKEN",
     "cannot get the customer from the token"},
    {"OSM.01010014", StatusCode::INTERNAL, false, "OPERATION_FAILED",
     "operation failed (internal)"},
    {"OSM.01010015", StatusCode::NOT_FOUND, false, "CASE_NOT_FOUND", "the case does not exist"},
    // Older OSM codes, reported with the HTTP status in parentheses.
    {"OSM.0001", StatusCode::INVALID_ARGUMENT, false, "INVALID_PARAMETER",
     "bad request (HTTP 400)"},
    {"OSM.0002", StatusCode::UNAUTHENTICATED, false, "AUTHENTICATION_FAILED",
     "unauthorized (HTTP 401)"},
    {"OSM.0003", StatusCode::PERMISSION_DENIED, false, "OPERATION_NOT_PERMITTED",
     "forbidden (HTTP 403)"},
    {"OSM.0004", StatusCode::INTERNAL, false, "OPERATION_FAILED", "internal error (HTTP 500)"},
    // API gateway errors.
    // The API is missing at this endpoint: the adapter points at the wrong
    // place, which is not the caller's "not found".
    {"APIGW.0101", StatusCode::UNIMPLEMENTED, false, "API_NOT_PUBLISHED",
     "the API does not exist or is not published (HTTP 404)"},
    {"APIGW.0201", StatusCode::INVALID_ARGUMENT, true, "GATEWAY_REQUEST_ERROR",
     "bad request, request too large or backend timeout (HTTP 400, 413, 504)"},
    {"APIGW.0301", StatusCode::UNAUTHENTICATED, false, "IAM_AUTHENTICATION_FAILED",
     "IAM authentication failed: bad token or AK/SK signature (HTTP 401)"},
    {"APIGW.0303", StatusCode::UNAUTHENTICATED, false, "REQUEST_DATE_SKEWED",
     "X-Sdk-Date more than 15 minutes off the gateway's clock (HTTP 401)"},
    {"APIGW.0308", StatusCode::RESOURCE_EXHAUSTED, false, "THROTTLED", "throttled (HTTP 429)"},
};

}  // namespace

absl::Span<const OsmErrorCode> KnownOsmErrorCodes() { return kKnownCodes; }

const OsmErrorCode* FindOsmErrorCode(absl::string_view code) {
  for (const OsmErrorCode& entry : kKnownCodes) {
    if (entry.code == code) return &entry;
  }
  return nullptr;
}

}  // namespace osm
