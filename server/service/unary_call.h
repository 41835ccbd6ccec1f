#ifndef OSM_SERVER_SERVICE_UNARY_CALL_H_
#define OSM_SERVER_SERVICE_UNARY_CALL_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/base/hand_off.h"
#include "server/observability/access_log.h"
#include "server/osm/adapter_errors.h"
#include "server/osm/rich_status.h"
#include "server/service/adapter_metrics.h"
#include "server/service/call_pipeline.h"
#include "server/service/service_options.h"
#include "server/upstream/upstream_client.h"

namespace osm {

// One unary call of MessageService. Lives from the handler until gRPC's
// OnDone(). `Operation` (operations.h) says what the call is: its Request
// and Response, its RpcMethod, Prepare() (the request pipeline), Map() (the
// answer) and the ids the access log names.
//
// Threads: Begin() or RefuseForOverload() runs in the handler on a gRPC
// thread; the upstream callback on whichever thread completes the transfer
// (the upstream loop, a gRPC thread driving it, or this very handler, inside
// Start(): see the UpstreamClient contract); OnCancel on a gRPC thread,
// possibly at the same time as the callback. Finish() is called exactly
// once: by the handler (nothing was sent upstream) or by the upstream
// callback (cancellation only asks the client to end the transfer early).
// gRPC holds a Finish() made inside the handler back until the handler has
// returned, so `this` outlives the handler. OnDone, last, records the call
// in the metrics and the access log.
template <typename Operation>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  using Request = typename Operation::Request;
  using Response = typename Operation::Response;

  // `in_flight` counts admitted calls, and is decremented in OnDone; null
  // for a call refused for overload.
  UnaryCall(UpstreamClient* upstream, const ServiceOptions& options, std::atomic<int>* in_flight,
            grpc::CallbackServerContext* context, const Request* request, Response* response)
      : upstream_(upstream),
        in_flight_(in_flight),
        options_(options),
        context_(context),
        request_(request),
        response_(response),
        started_(absl::Now()) {
    if (options_.metrics != nullptr) options_.metrics->CallStarted();
    // gRPC calls OnCancel only once the handler has returned this reactor
    // and gRPC has bound it to the call, possibly on another thread: an
    // ordering inside its core (server/base/hand_off.h).
    HandOffSent(this);
  }

  // Runs the request pipeline, and calls OSM unless the call ends at once.
  void Begin() {
    PreparedCall prepared =
        Operation::Prepare(*request_, ReadCallMetadata(context_->client_metadata()), absl::Now(),
                           absl::FromChrono(context_->deadline()), options_.pipeline);
    if (!prepared.refusal.ok()) {
      Complete(std::move(prepared.refusal));
      return;
    }
    secrets_ = std::move(prepared.secrets);
    upstream_started_ = absl::Now();
    // The callback may finish the call before Start() returns (see the class
    // comment); `this` is still alive for the store below.
    transfer_id_.store(upstream_->Start(std::move(prepared.http),
                                        [this](absl::StatusOr<HttpResponse> outcome) {
                                          OnUpstreamDone(std::move(outcome));
                                        }),
                       std::memory_order_release);
  }

  // Beyond --max_in_flight: no queue without bound, but an answer at once
  // that tells the caller when to come back.
  void RefuseForOverload() {
    const absl::Duration delay = options_.overload_retry_delay;
    const google::rpc::RetryInfo retry = RetryInfoFor(delay);
    AddRetryPushback(delay);
    Complete(
        AdapterError(AdapterReason::kTooManyCallsInFlight,
                     absl::StrCat("the adapter is serving its maximum of ", options_.max_in_flight,
                                  " calls; retry after ", absl::FormatDuration(delay)),
                     {{"maxInFlight", absl::StrCat(options_.max_in_flight)}}, {&retry}));
  }

  void OnCancel() override {
    HandOffReceived(this);  // the constructor's writes (see there)
    const UpstreamClient::TransferId id = transfer_id_.load(std::memory_order_acquire);
    if (id != 0) upstream_->Cancel(id);
  }

  void OnDone() override {
    // gRPC runs OnDone after Finish(), ordered inside its core (see Complete).
    HandOffReceived(this);
    const absl::Duration total = absl::Now() - started_;
    if (options_.metrics != nullptr) {
      options_.metrics->CallFinished(code_, total, Operation::kMethod);
    }
    if (options_.access_log != nullptr) {
      AccessLogEntry entry;
      entry.time = started_;
      entry.method = RpcMethodName(Operation::kMethod);
      entry.case_id = Operation::CaseId(*request_);
      entry.message_id = Operation::MessageId(*request_);
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
    // The server's Shutdown() returns after every OnDone: the service, the
    // metrics and the log it wrote to may go (~OsmMessageService).
    HandOffSent(&options_);
    delete this;
  }

  // Lets gRPC run OnDone and OnCancel on the thread that triggers them
  // instead of handing them to its executor thread: a thread hop and a
  // wake-up saved on every call. Both reactions are short and never block
  // (OnCancel only queues a command for the upstream loop). The hook is
  // public in gRPC 1.51's ServerReactor, though documented as internal.
  bool InternalInlineable() override { return true; }

 private:
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
    // Whatever this thread did to the call happens before OnDone, which gRPC
    // runs once the Finish() batch has completed: an ordering inside gRPC's
    // core, which ThreadSanitizer cannot see (server/base/hand_off.h). No
    // member may be touched after Finish().
    HandOffSent(this);
    Finish(std::move(status));
  }

  void OnUpstreamDone(absl::StatusOr<HttpResponse> outcome) {
    const absl::Time now = absl::Now();
    upstream_elapsed_ = now - upstream_started_;
    auto mapped = Operation::Map(*request_, outcome, now, secrets_);
    reason_ = mapped.reason;
    const auto& answer = Operation::AnswerOf(mapped);
    if (outcome.ok()) {
      http_status_ = outcome->status;
      error_code_ = answer.error_code();
      request_id_ = answer.request_id();
      if (options_.metrics != nullptr) {
        options_.metrics->UpstreamAnswered(http_status_, error_code_, upstream_elapsed_);
      }
    } else if (options_.metrics != nullptr) {
      options_.metrics->UpstreamFailed(reason_, upstream_elapsed_);
    }
    const std::string& request_id = answer.request_id();
    if (!request_id.empty()) context_->AddTrailingMetadata("x-request-id", request_id);
    if (mapped.retry_delay) AddRetryPushback(*mapped.retry_delay);
    if (mapped.status.ok()) *response_ = std::move(mapped.response);
    Complete(std::move(mapped.status));
  }

  UpstreamClient* const upstream_;
  std::atomic<int>* const in_flight_;
  const ServiceOptions& options_;
  grpc::CallbackServerContext* const context_;
  const Request* const request_;
  Response* const response_;
  const absl::Time started_;
  // What the upstream must not echo back to the caller.
  CallSecrets secrets_;
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

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_UNARY_CALL_H_
