#ifndef OSM_SERVER_SERVICE_WITHDRAW_PIPELINE_H_
#define OSM_SERVER_SERVICE_WITHDRAW_PIPELINE_H_

#include <grpcpp/support/status.h>
#include <grpcpp/support/string_ref.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/credentials.h"
#include "server/osm/redaction.h"
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

// A Withdraw call, ready for OSM, or the reason it must end at once.
struct PreparedCall {
  // Not OK: finish the call with this; nothing is sent upstream.
  grpc::Status refusal;
  // When `refusal` is OK: the upstream request, and the secrets its answer
  // must not carry back.
  HttpRequest http;
  CallSecrets secrets;
};

// The request pipeline of one Withdraw call, in order: validation (request
// and token), the deadline (the caller's, bounded by max_upstream_timeout;
// one already passed is refused), the upstream request (passed-through
// token, or signed), then the forwarded tracing headers (each at most 512
// bytes and free of control characters, else dropped). Pure but for
// reading the credentials provider.
PreparedCall PrepareUpstreamRequest(const huaweicloud::osm::v2::WithdrawRequest& request,
                                    const CallMetadata& metadata, absl::Time now,
                                    absl::Time caller_deadline, const PipelineOptions& options);

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_WITHDRAW_PIPELINE_H_
