#include "server/service/call_pipeline.h"

#include <algorithm>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/osm/adapter_errors.h"
#include "server/osm/upstream_request.h"
#include "server/service/request_validation.h"

namespace osm {
namespace {

// The metadata forwarded to OSM, and the header each becomes.
constexpr absl::string_view kForwarded[][2] = {
    {"traceparent", "traceparent"}, {"tracestate", "tracestate"}, {"x-request-id", "X-Request-Id"}};
constexpr std::size_t kMaxForwardedValueBytes = 512;

// The status of a call that could not be signed; nothing was sent upstream.
// No usable credentials (expired, none loaded yet) is UNAVAILABLE: it is the
// adapter's, not the caller's, and goes away when the credentials are
// replaced, so a retry may succeed. Anything else is INTERNAL.
grpc::Status SigningFailure(const absl::Status& why) {
  if (why.code() == absl::StatusCode::kUnavailable) {
    return AdapterError(AdapterReason::kCredentialsUnavailable,
                        absl::StrCat("the adapter cannot sign requests: ", why.message()));
  }
  return AdapterError(AdapterReason::kSigningFailed,
                      absl::StrCat("the adapter could not sign the request: ", why.message()));
}

}  // namespace

CallMetadata ReadCallMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata) {
  CallMetadata out;
  for (auto [it, end] = client_metadata.equal_range(
           grpc::string_ref(kAuthTokenMetadataKey.data(), kAuthTokenMetadataKey.size()));
       it != end; ++it) {
    out.tokens.emplace_back(it->second.data(), it->second.size());
  }
  for (const auto& names : kForwarded) {
    auto it = client_metadata.find(grpc::string_ref(names[0].data(), names[0].size()));
    if (it == client_metadata.end()) continue;
    out.trace.emplace_back(names[1], absl::string_view(it->second.data(), it->second.size()));
  }
  return out;
}

PreparedCall PrepareCall(ValidateFn validate, BuildFn build, BuildSignedFn build_signed,
                         const CallMetadata& metadata, absl::Time now, absl::Time caller_deadline,
                         const PipelineOptions& options) {
  PreparedCall out;
  // A signing adapter acts as its own identity on every call: a caller's
  // token is neither required nor looked at, and never forwarded.
  const bool signing = options.credentials != nullptr;
  static const std::vector<absl::string_view> kNoTokens;
  const std::vector<absl::string_view>& tokens = signing ? kNoTokens : metadata.tokens;
  out.refusal = validate(tokens, /*required=*/!signing);
  if (!out.refusal.ok()) return out;
  if (caller_deadline <= now) {
    out.refusal = AdapterError(AdapterReason::kDeadlineExceeded,
                               "the call's deadline passed before OSM was called");
    return out;
  }
  const absl::Time deadline = std::min(caller_deadline, now + options.max_upstream_timeout);
  if (signing) {
    absl::StatusOr<std::shared_ptr<const AkSkCredentials>> credentials =
        options.credentials->Get(now);
    if (!credentials.ok()) {
      out.refusal = SigningFailure(credentials.status());
      return out;
    }
    absl::StatusOr<SignedHttpRequest> signed_request = build_signed(**credentials, now, deadline);
    if (!signed_request.ok()) {
      out.refusal = SigningFailure(signed_request.status());
      return out;
    }
    out.http = std::move(signed_request->http);
    out.secrets.Add((*credentials)->security_token);
    out.secrets.Add(std::move(signed_request->signature));
  } else {
    out.http = build(tokens[0], deadline);
    out.secrets.Add(std::string(tokens[0]));
  }
  for (const auto& [header, value] : metadata.trace) {
    if (value.empty() || value.size() > kMaxForwardedValueBytes || HasControlCharacter(value)) {
      continue;
    }
    out.http.headers.push_back(absl::StrCat(header, ": ", value));
  }
  return out;
}

PreparedCall PrepareUpstreamRequest(const huaweicloud::osm::v2::WithdrawRequest& request,
                                    const CallMetadata& metadata, absl::Time now,
                                    absl::Time caller_deadline, const PipelineOptions& options) {
  return PrepareCall(
      [&](const std::vector<absl::string_view>& tokens, bool required) {
        return ValidateWithdrawRequest(request, tokens, required);
      },
      [&](absl::string_view token, absl::Time deadline) {
        return BuildWithdrawHttpRequest(options.upstream, request, token, deadline);
      },
      [&](const AkSkCredentials& credentials, absl::Time signing_time, absl::Time deadline) {
        return BuildSignedWithdrawHttpRequest(options.upstream, request, credentials, signing_time,
                                              deadline);
      },
      metadata, now, caller_deadline, options);
}

}  // namespace osm
