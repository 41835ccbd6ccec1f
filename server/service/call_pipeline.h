#ifndef OSM_SERVER_SERVICE_CALL_PIPELINE_H_
#define OSM_SERVER_SERVICE_CALL_PIPELINE_H_

#include <grpcpp/support/status.h>
#include <grpcpp/support/string_ref.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/credentials.h"
#include "server/osm/message_requests.h"
#include "server/osm/redaction.h"
#include "server/service/request_validation.h"
#include "server/upstream/http_types.h"

namespace osm {

// What a call brings besides its request message, read from its metadata.
struct CallMetadata {
  // Every value of `x-auth-token`.
  std::vector<absl::string_view> tokens;
  // The tracing context to forward: (header name, value) for each of
  // traceparent, tracestate and x-request-id that the caller sent.
  std::vector<std::pair<absl::string_view, absl::string_view>> trace;
};

// Reads CallMetadata out of a call's metadata; the views point into it.
CallMetadata ReadCallMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata);

// The settings every call shares.
struct PipelineOptions {
  UpstreamUrl upstream;
  // Upper bound on one upstream call, whatever the caller's deadline.
  absl::Duration max_upstream_timeout = absl::Seconds(30);
  // Signs every request with the adapter's access key; callers' tokens are
  // then neither required nor forwarded. Null: the caller's token is
  // required and passed through as X-Auth-Token. Not owned.
  CredentialsProvider* credentials = nullptr;
};

// A call, ready for OSM, or the reason it must end at once.
struct PreparedCall {
  // Not OK: finish the call with this; nothing is sent upstream.
  grpc::Status refusal;
  // When `refusal` is OK: the upstream request, and the secrets its answer
  // must not carry back.
  HttpRequest http;
  CallSecrets secrets;
};

// The request pipeline of one call, in order: validation (`validate`, given
// the tokens to check and whether one is required), the deadline (the
// caller's, bounded by max_upstream_timeout; one already passed is
// refused), the upstream request (`build` with the passed-through token, or
// `build_signed` with the adapter's credentials), then the forwarded
// tracing headers (each at most 512 bytes and free of control characters,
// else dropped). Pure but for reading the credentials provider.
using ValidateFn =
    absl::FunctionRef<grpc::Status(const std::vector<absl::string_view>& tokens, bool required)>;
using BuildFn = absl::FunctionRef<HttpRequest(absl::string_view token, absl::Time deadline)>;
using BuildSignedFn = absl::FunctionRef<absl::StatusOr<SignedHttpRequest>(
    const AkSkCredentials& credentials, absl::Time now, absl::Time deadline)>;
PreparedCall PrepareCall(ValidateFn validate, BuildFn build, BuildSignedFn build_signed,
                         const CallMetadata& metadata, absl::Time now, absl::Time caller_deadline,
                         const PipelineOptions& options);

// PrepareCall for Withdraw.
PreparedCall PrepareUpstreamRequest(const huaweicloud::osm::v2::WithdrawRequest& request,
                                    const CallMetadata& metadata, absl::Time now,
                                    absl::Time caller_deadline, const PipelineOptions& options);

// PrepareCall for an operation of the message group: `request` is checked
// by its ValidateRequest (request_validation.h) and `call` is what it sends
// (message_requests.h).
template <typename Request>
PreparedCall PrepareMessageCall(const Request& request, const OsmCall& call,
                                const CallMetadata& metadata, absl::Time now,
                                absl::Time caller_deadline, const PipelineOptions& options) {
  return PrepareCall(
      [&](const std::vector<absl::string_view>& tokens, bool required) {
        return ValidateRequest(request, tokens, required);
      },
      [&](absl::string_view token, absl::Time deadline) {
        return BuildHttpRequest(options.upstream, call, token, deadline);
      },
      [&](const AkSkCredentials& credentials, absl::Time signing_time, absl::Time deadline) {
        return BuildSignedHttpRequest(options.upstream, call, credentials, signing_time, deadline);
      },
      metadata, now, caller_deadline, options);
}

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_CALL_PIPELINE_H_
