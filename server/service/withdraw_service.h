#ifndef OSM_SERVER_SERVICE_WITHDRAW_SERVICE_H_
#define OSM_SERVER_SERVICE_WITHDRAW_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/osm/credentials.h"
#include "server/service/withdraw_pipeline.h"
#include "server/upstream/upstream_client.h"

namespace osm {
class AccessLog;
class AdapterMetrics;
}  // namespace osm

namespace osm {

// MessageService on gRPC's callback API. Each call runs the request pipeline
// (PrepareUpstreamRequest), hands one transfer to the UpstreamClient and
// finishes from the client's callback: no thread waits for the upstream.
class WithdrawService final : public huaweicloud::osm::v2::MessageService::CallbackService {
 public:
  struct Options {
    PipelineOptions pipeline;
    // Optional; each must outlive the service.
    AdapterMetrics* metrics = nullptr;
    AccessLog* access_log = nullptr;
    // Calls served at once; one more is refused at once with
    // RESOURCE_EXHAUSTED, RetryInfo and grpc-retry-pushback-ms.
    int max_in_flight = 4096;
    // The delay a refused caller is asked to wait.
    absl::Duration overload_retry_delay = absl::Seconds(1);
  };

  // `upstream` (and `options.pipeline.credentials`) must outlive the service.
  WithdrawService(UpstreamClient* upstream, Options options);
  ~WithdrawService() override;

  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* context,
                                     const huaweicloud::osm::v2::WithdrawRequest* request,
                                     huaweicloud::osm::v2::WithdrawResponse* response) override;

 private:
  UpstreamClient* const upstream_;
  const Options options_;
  // Calls admitted and not yet done.
  std::atomic<int> in_flight_{0};
};

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_WITHDRAW_SERVICE_H_
