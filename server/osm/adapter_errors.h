#ifndef OSM_SERVER_OSM_ADAPTER_ERRORS_H_
#define OSM_SERVER_OSM_ADAPTER_ERRORS_H_

#include <grpcpp/support/status.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"

namespace osm {

// The errors the adapter decides itself (ErrorInfo domain
// "osm-grpc-adapter"), one row each: the table that the contract's error
// model (message_service.proto) documents, and that a test checks against
// it. OSM's own error codes are in osm_error_codes.h.
enum class AdapterReason {
  kMissingAuthToken,
  kInvalidRequest,
  kDeadlineExceeded,
  kTooManyCallsInFlight,
  kCredentialsUnavailable,
  kSigningFailed,
  kUpstreamResponseTooLarge,
  kMalformedUpstreamResponse,
  kUpstreamUnavailable,
  kUpstreamTimeout,
  kCancelled,
  kUpstreamTransportError,
  kTooManyWatches,
  kShuttingDown,
};

struct AdapterReasonInfo {
  AdapterReason reason;
  absl::string_view name;  // ErrorInfo.reason
  grpc::StatusCode code;
  // OSM gave no complete answer: counted by the upstream-failure metric.
  bool upstream_failure;
};

// Every row, in the order of the enum.
absl::Span<const AdapterReasonInfo> AdapterReasons();
const AdapterReasonInfo& Describe(AdapterReason reason);

// An ErrorInfo with `reason`'s name and the adapter's domain.
google::rpc::ErrorInfo AdapterErrorInfo(AdapterReason reason);

// The status of an error the adapter decides: `reason`'s code, `message`,
// and a google.rpc.Status with an ErrorInfo (the reason, the adapter's
// domain and `metadata`) followed by `more_details` (null entries skipped).
grpc::Status AdapterError(
    AdapterReason reason, absl::string_view message,
    std::initializer_list<std::pair<absl::string_view, std::string>> metadata = {},
    std::initializer_list<const google::protobuf::Message*> more_details = {});

}  // namespace osm

#endif  // OSM_SERVER_OSM_ADAPTER_ERRORS_H_
