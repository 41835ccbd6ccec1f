#include "server/service/withdraw_service.h"

#include <atomic>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/observability/access_log.h"
#include "server/osm/response_mapper.h"
#include "server/osm/rich_status.h"
#include "server/osm/upstream_request.h"
#include "server/service/adapter_metrics.h"
#include "server/service/request_validation.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;

// The status of a call that could not be signed; nothing was sent upstream.
// No usable credentials (expired, none loaded yet) is UNAVAILABLE: it is the
// adapter's, not the caller's, and goes away when the credentials are
// replaced, so a retry may succeed. Anything else is INTERNAL.
grpc::Status SigningFailure(const absl::Status& why) {
  google::rpc::ErrorInfo info;
  info.set_domain(std::string(kAdapterDomain));
  if (why.code() == absl::StatusCode::kUnavailable) {
    info.set_reason("CREDENTIALS_UNAVAILABLE");
    return MakeRichStatus(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat("the adapter cannot sign requests: ", why.message()), info);
  }
  info.set_reason("SIGNING_FAILED");
  return MakeRichStatus(grpc::StatusCode::INTERNAL,
                        absl::StrCat("the adapter could not sign the request: ", why.message()),
                        info);
}

// One Withdraw call. Lives from the handler until gRPC's OnDone().
//
// Threads: the constructor runs in the handler on a gRPC thread; the
// upstream callback on whichever thread completes the transfer (the upstream
// loop, or a gRPC thread driving it); OnCancel on a gRPC thread, possibly at
// the same time as the callback. Finish() is called exactly once: by the
// constructor (nothing was sent upstream) or by the upstream callback
// (cancellation only asks the client to end the transfer early). OnDone,
// last, records the call in the metrics and the access log.
class WithdrawCall final : public grpc::ServerUnaryReactor {
 public:
  // `in_flight` counts admitted calls; null for a call refused for overload.
  WithdrawCall(UpstreamClient* upstream, const WithdrawService::Options& options,
               std::atomic<int>* in_flight, grpc::CallbackServerContext* context,
               const WithdrawRequest* request, WithdrawResponse* response)
      : upstream_(upstream),
        in_flight_(in_flight),
        options_(options),
        context_(context),
        request_(request),
        response_(response),
        started_(absl::Now()) {
    if (options_.metrics != nullptr) options_.metrics->CallStarted();
    if (in_flight_ == nullptr) {
      RefuseForOverload();
      return;
    }
    // A signing adapter acts as its own identity on every call: a caller's
    // token is neither required nor looked at, and never forwarded.
    const bool signing = options.credentials != nullptr;
    std::vector<absl::string_view> tokens;
    if (!signing) {
      const auto& metadata = context->client_metadata();
      for (auto [it, end] = metadata.equal_range(
               grpc::string_ref(kAuthTokenMetadataKey.data(), kAuthTokenMetadataKey.size()));
           it != end; ++it) {
        tokens.emplace_back(it->second.data(), it->second.size());
      }
    }
    if (grpc::Status invalid =
            ValidateWithdrawRequest(*request, tokens, /*token_required=*/!signing);
        !invalid.ok()) {
      Complete(std::move(invalid));
      return;
    }
    if (!signing) token_ = std::string(tokens[0]);

    const absl::Time now = absl::Now();
    const absl::Time caller_deadline = absl::FromChrono(context->deadline());
    if (caller_deadline <= now) {
      google::rpc::ErrorInfo info;
      reason_ = "DEADLINE_EXCEEDED";
      info.set_reason(reason_);
      info.set_domain(std::string(kAdapterDomain));
      Complete(MakeRichStatus(grpc::StatusCode::DEADLINE_EXCEEDED,
                              "the call's deadline passed before OSM was called", info));
      return;
    }
    const absl::Time deadline = std::min(caller_deadline, now + options.max_upstream_timeout);
    HttpRequest http;
    if (signing) {
      absl::StatusOr<SignedHttpRequest> signed_request = Sign(options, *request, now, deadline);
      if (!signed_request.ok()) {
        Complete(SigningFailure(signed_request.status()));
        return;
      }
      http = std::move(signed_request->http);
      signature_ = std::move(signed_request->signature);
    } else {
      http = BuildWithdrawHttpRequest(options.upstream_base_url, *request, token_, deadline);
    }
    AddTraceHeaders(http);
    upstream_started_ = absl::Now();
    // From here on the upstream callback may finish the call at any moment;
    // gRPC holds that Finish back until this handler has returned, so `this`
    // is still alive for the store below.
    transfer_id_.store(upstream_->Start(std::move(http),
                                        [this](absl::StatusOr<HttpResponse> outcome) {
                                          // (The mapping redacts token_.)
                                          RedactEchoedSecret(outcome, signature_);
                                          OnUpstreamDone(std::move(outcome));
                                        }),
                       std::memory_order_release);
  }

  void OnCancel() override {
    const UpstreamClient::TransferId id = transfer_id_.load(std::memory_order_acquire);
    if (id != 0) upstream_->Cancel(id);
  }

  void OnDone() override {
    const absl::Duration total = absl::Now() - started_;
    if (options_.metrics != nullptr) options_.metrics->CallFinished(code_, total);
    if (options_.access_log != nullptr) {
      AccessLogEntry entry;
      entry.time = started_;
      entry.case_id = request_->case_id();
      entry.message_id = request_->message_id();
      entry.code = code_;
      entry.reason = reason_;
      entry.http_status = http_status_;
      entry.error_code = error_code_;
      entry.request_id = request_id_;
      entry.upstream = upstream_elapsed_;
      entry.total = total;
      const std::string peer = context_->peer();
      entry.peer = peer;
      options_.access_log->Write(entry);
    }
    if (in_flight_ != nullptr) in_flight_->fetch_sub(1, std::memory_order_relaxed);
    delete this;
  }

  // Lets gRPC run OnDone and OnCancel on the thread that triggers them
  // instead of handing them to its executor thread: a thread hop and a
  // wake-up saved on every call. Both reactions are short and never block
  // (OnCancel only queues a command for the upstream loop). The hook is
  // public in gRPC 1.51's ServerReactor, though documented as internal.
  bool InternalInlineable() override { return true; }

 private:
  // The signed upstream request. token_ becomes the security token, so that
  // the mapping redacts it should OSM echo it.
  absl::StatusOr<SignedHttpRequest> Sign(const WithdrawService::Options& options,
                                         const WithdrawRequest& request, absl::Time now,
                                         absl::Time deadline) {
    absl::StatusOr<std::shared_ptr<const AkSkCredentials>> credentials =
        options.credentials->Get(now);
    if (!credentials.ok()) return credentials.status();
    token_ = (*credentials)->security_token;
    return BuildSignedWithdrawHttpRequest(options.upstream_base_url, request, **credentials, now,
                                          deadline);
  }

  // Beyond --max_in_flight: no queue without bound, but an answer at once
  // that tells the caller when to come back.
  void RefuseForOverload() {
    const absl::Duration delay = options_.overload_retry_delay;
    google::rpc::ErrorInfo info;
    reason_ = "TOO_MANY_CALLS_IN_FLIGHT";
    info.set_reason(reason_);
    info.set_domain(std::string(kAdapterDomain));
    (*info.mutable_metadata())["maxInFlight"] = absl::StrCat(options_.max_in_flight);
    const google::rpc::RetryInfo retry = RetryInfoFor(delay);
    AddRetryPushback(delay);
    Complete(MakeRichStatus(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("the adapter is serving its maximum of ", options_.max_in_flight,
                     " calls; retry after ", absl::FormatDuration(delay)),
        info, {&retry}));
  }

  // gRPC's own retry policy waits this long before trying the call again.
  void AddRetryPushback(absl::Duration delay) {
    context_->AddTrailingMetadata("grpc-retry-pushback-ms",
                                  absl::StrCat(absl::ToInt64Milliseconds(delay)));
  }

  // Finishes the call, remembering what the metrics and the log need. Where
  // the caller has not set reason_, it is read back from the status.
  void Complete(grpc::Status status) {
    code_ = status.error_code();
    if (!status.ok() && reason_.empty()) reason_ = ErrorInfoReason(status);
    Finish(std::move(status));
  }

  // The caller's tracing context goes upstream: an allow-list, each value
  // checked like any other header value, dropped if unfit.
  void AddTraceHeaders(HttpRequest& http) const {
    static constexpr absl::string_view kForwarded[][2] = {{"traceparent", "traceparent"},
                                                          {"tracestate", "tracestate"},
                                                          {"x-request-id", "X-Request-Id"}};
    constexpr std::size_t kMaxValueBytes = 512;
    const auto& metadata = context_->client_metadata();
    for (const auto& names : kForwarded) {
      auto it = metadata.find(grpc::string_ref(names[0].data(), names[0].size()));
      if (it == metadata.end()) continue;
      const absl::string_view value(it->second.data(), it->second.size());
      if (value.empty() || value.size() > kMaxValueBytes || HasControlCharacter(value)) continue;
      http.headers.push_back(absl::StrCat(names[1], ": ", value));
    }
  }

  void OnUpstreamDone(absl::StatusOr<HttpResponse> outcome) {
    const absl::Time now = absl::Now();
    upstream_elapsed_ = now - upstream_started_;
    MappedWithdraw mapped = MapWithdrawOutcome(outcome, now, token_);
    reason_ = mapped.reason;
    if (outcome.ok()) {
      http_status_ = outcome->status;
      error_code_ = mapped.response.error_code();
      request_id_ = mapped.response.request_id();
      if (options_.metrics != nullptr) {
        options_.metrics->UpstreamAnswered(http_status_, error_code_, upstream_elapsed_);
      }
    } else if (options_.metrics != nullptr) {
      options_.metrics->UpstreamFailed(reason_, upstream_elapsed_);
    }
    const std::string& request_id = mapped.response.request_id();
    if (!request_id.empty()) context_->AddTrailingMetadata("x-request-id", request_id);
    if (mapped.retry_delay) AddRetryPushback(*mapped.retry_delay);
    if (mapped.status.ok()) *response_ = std::move(mapped.response);
    Complete(std::move(mapped.status));
  }

  UpstreamClient* const upstream_;
  std::atomic<int>* const in_flight_;
  const WithdrawService::Options& options_;
  grpc::CallbackServerContext* const context_;
  const WithdrawRequest* const request_;
  WithdrawResponse* const response_;
  const absl::Time started_;
  // What the upstream must not echo back to the caller: the caller's token
  // (pass-through) or the security token, and the request's signature.
  std::string token_;
  std::string signature_;
  std::atomic<UpstreamClient::TransferId> transfer_id_{0};
  // For OnDone: written before Finish, read after it.
  absl::Time upstream_started_;
  absl::Duration upstream_elapsed_ = absl::ZeroDuration();
  grpc::StatusCode code_ = grpc::StatusCode::UNKNOWN;
  std::string reason_;
  int http_status_ = 0;
  std::string error_code_;
  std::string request_id_;
};

}  // namespace

WithdrawService::WithdrawService(UpstreamClient* upstream, Options options)
    : upstream_(upstream), options_(std::move(options)) {}

grpc::ServerUnaryReactor* WithdrawService::Withdraw(grpc::CallbackServerContext* context,
                                                    const WithdrawRequest* request,
                                                    WithdrawResponse* response) {
  const bool admitted = in_flight_.fetch_add(1, std::memory_order_relaxed) < options_.max_in_flight;
  if (!admitted) in_flight_.fetch_sub(1, std::memory_order_relaxed);
  return new WithdrawCall(upstream_, options_, admitted ? &in_flight_ : nullptr, context, request,
                          response);
}

}  // namespace osm
