#include "server/osm/adapter_errors.h"

#include <cstdlib>

#include "server/osm/rich_status.h"

namespace osm {
namespace {

using grpc::StatusCode;

constexpr AdapterReasonInfo kReasons[] = {
    {AdapterReason::kMissingAuthToken, "MISSING_AUTH_TOKEN", StatusCode::UNAUTHENTICATED, false},
    {AdapterReason::kInvalidRequest, "INVALID_REQUEST", StatusCode::INVALID_ARGUMENT, false},
    {AdapterReason::kDeadlineExceeded, "DEADLINE_EXCEEDED", StatusCode::DEADLINE_EXCEEDED, false},
    {AdapterReason::kTooManyCallsInFlight, "TOO_MANY_CALLS_IN_FLIGHT",
     StatusCode::RESOURCE_EXHAUSTED, false},
    {AdapterReason::kCredentialsUnavailable, "CREDENTIALS_UNAVAILABLE", StatusCode::UNAVAILABLE,
     false},
    {AdapterReason::kSigningFailed, "SIGNING_FAILED", StatusCode::INTERNAL, false},
    {AdapterReason::kUpstreamResponseTooLarge, "UPSTREAM_RESPONSE_TOO_LARGE", StatusCode::UNKNOWN,
     false},
    {AdapterReason::kMalformedUpstreamResponse, "MALFORMED_UPSTREAM_RESPONSE", StatusCode::UNKNOWN,
     false},
    {AdapterReason::kUpstreamUnavailable, "UPSTREAM_UNAVAILABLE", StatusCode::UNAVAILABLE, true},
    {AdapterReason::kUpstreamTimeout, "UPSTREAM_TIMEOUT", StatusCode::DEADLINE_EXCEEDED, true},
    {AdapterReason::kCancelled, "CANCELLED", StatusCode::CANCELLED, true},
    {AdapterReason::kUpstreamTransportError, "UPSTREAM_TRANSPORT_ERROR", StatusCode::INTERNAL,
     true},
    {AdapterReason::kTooManyWatches, "TOO_MANY_WATCHES", StatusCode::RESOURCE_EXHAUSTED, false},
    {AdapterReason::kShuttingDown, "SHUTTING_DOWN", StatusCode::UNAVAILABLE, false},
};

}  // namespace

absl::Span<const AdapterReasonInfo> AdapterReasons() { return kReasons; }

const AdapterReasonInfo& Describe(AdapterReason reason) {
  const auto index = static_cast<std::size_t>(reason);
  if (index >= std::size(kReasons) || kReasons[index].reason != reason) std::abort();
  return kReasons[index];
}

google::rpc::ErrorInfo AdapterErrorInfo(AdapterReason reason) {
  google::rpc::ErrorInfo error_info;
  error_info.set_reason(std::string(Describe(reason).name));
  error_info.set_domain(std::string(kAdapterDomain));
  return error_info;
}

grpc::Status AdapterError(AdapterReason reason, absl::string_view message,
                          std::initializer_list<std::pair<absl::string_view, std::string>> metadata,
                          std::initializer_list<const google::protobuf::Message*> more_details) {
  google::rpc::ErrorInfo error_info = AdapterErrorInfo(reason);
  for (const auto& [key, value] : metadata) {
    (*error_info.mutable_metadata())[std::string(key)] = value;
  }
  return MakeRichStatus(Describe(reason).code, message, error_info, more_details);
}

}  // namespace osm
