#include "withdraw_service.h"

#include <atomic>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "request_validation.h"
#include "response_mapper.h"
#include "rich_status.h"
#include "upstream_request.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;

// One Withdraw call. Lives from the handler until gRPC's OnDone().
//
// Threads: the constructor runs in the handler on a gRPC thread; the
// upstream callback on an upstream-client thread; OnCancel on a gRPC thread,
// possibly at the same time as the callback. Finish() is called exactly once:
// by the constructor (nothing was sent upstream) or by the upstream callback
// (cancellation only asks the client to end the transfer early).
class WithdrawCall final : public grpc::ServerUnaryReactor {
 public:
  WithdrawCall(UpstreamClient* upstream, const WithdrawService::Options& options,
               grpc::CallbackServerContext* context, const WithdrawRequest* request,
               WithdrawResponse* response)
      : upstream_(upstream), context_(context), response_(response) {
    std::vector<absl::string_view> tokens;
    const auto& metadata = context->client_metadata();
    for (auto [it, end] = metadata.equal_range(
             grpc::string_ref(kAuthTokenMetadataKey.data(), kAuthTokenMetadataKey.size()));
         it != end; ++it) {
      tokens.emplace_back(it->second.data(), it->second.size());
    }
    if (grpc::Status invalid = ValidateWithdrawRequest(*request, tokens, /*token_required=*/true);
        !invalid.ok()) {
      Finish(std::move(invalid));
      return;
    }
    token_ = std::string(tokens[0]);

    const absl::Time now = absl::Now();
    const absl::Time caller_deadline = absl::FromChrono(context->deadline());
    if (caller_deadline <= now) {
      google::rpc::ErrorInfo info;
      info.set_reason("DEADLINE_EXCEEDED");
      info.set_domain(std::string(kAdapterDomain));
      Finish(MakeRichStatus(grpc::StatusCode::DEADLINE_EXCEEDED,
                            "the call's deadline passed before OSM was called", info));
      return;
    }
    const absl::Time deadline = std::min(caller_deadline, now + options.max_upstream_timeout);
    HttpRequest http =
        BuildWithdrawHttpRequest(options.upstream_base_url, *request, token_, deadline);
    // From here on the upstream callback may finish the call at any moment;
    // gRPC holds that Finish back until this handler has returned, so `this`
    // is still alive for the store below.
    transfer_id_.store(upstream_->Start(std::move(http),
                                        [this](absl::StatusOr<HttpResponse> outcome) {
                                          OnUpstreamDone(std::move(outcome));
                                        }),
                       std::memory_order_release);
  }

  void OnCancel() override {
    const UpstreamClient::TransferId id = transfer_id_.load(std::memory_order_acquire);
    if (id != 0) upstream_->Cancel(id);
  }

  void OnDone() override { delete this; }

  // Lets gRPC run OnDone and OnCancel on the thread that triggers them
  // instead of handing them to its executor thread: a thread hop and a
  // wake-up saved on every call. Both reactions are short and never block
  // (OnCancel only queues a command for the upstream loop). The hook is
  // public in gRPC 1.51's ServerReactor, though documented as internal.
  bool InternalInlineable() override { return true; }

 private:
  void OnUpstreamDone(absl::StatusOr<HttpResponse> outcome) {
    MappedWithdraw mapped = MapWithdrawOutcome(outcome, absl::Now(), token_);
    const std::string& request_id = mapped.response.request_id();
    if (!request_id.empty()) context_->AddTrailingMetadata("x-request-id", request_id);
    if (mapped.retry_delay) {
      context_->AddTrailingMetadata("grpc-retry-pushback-ms",
                                    absl::StrCat(absl::ToInt64Milliseconds(*mapped.retry_delay)));
    }
    if (mapped.status.ok()) *response_ = std::move(mapped.response);
    Finish(std::move(mapped.status));
  }

  UpstreamClient* const upstream_;
  grpc::CallbackServerContext* const context_;
  WithdrawResponse* const response_;
  std::string token_;
  std::atomic<UpstreamClient::TransferId> transfer_id_{0};
};

}  // namespace

WithdrawService::WithdrawService(UpstreamClient* upstream, Options options)
    : upstream_(upstream), options_(std::move(options)) {}

grpc::ServerUnaryReactor* WithdrawService::Withdraw(grpc::CallbackServerContext* context,
                                                    const WithdrawRequest* request,
                                                    WithdrawResponse* response) {
  return new WithdrawCall(upstream_, options_, context, request, response);
}

}  // namespace osm
