#ifndef OSM_SERVER_SERVICE_WITHDRAW_SERVICE_H_
#define OSM_SERVER_SERVICE_WITHDRAW_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/osm/credentials.h"
#include "server/upstream/upstream_client.h"

namespace osm {
class AccessLog;
class AdapterMetrics;
}  // namespace osm

namespace osm {

// MessageService on gRPC's callback API. Each call validates its request,
// hands one transfer to the UpstreamClient and finishes from the client's
// callback: no thread waits for the upstream.
class WithdrawService final : public huaweicloud::osm::v2::MessageService::CallbackService {
 public:
  struct Options {
    // The OSM endpoint, normalized: scheme://host[:port][/prefix], no
    // trailing slash.
    std::string upstream_base_url;
    // Upper bound on one upstream call, whatever the caller's deadline.
    absl::Duration max_upstream_timeout = absl::Seconds(30);
    // Optional; each must outlive the service.
    AdapterMetrics* metrics = nullptr;
    AccessLog* access_log = nullptr;
    // Signs every upstream request with the adapter's access key; callers'
    // x-auth-token metadata is then ignored, never forwarded. Null: the
    // caller's token is required and passed through as X-Auth-Token.
    std::shared_ptr<CredentialsProvider> credentials;
    // Calls served at once; one more is refused at once with
    // RESOURCE_EXHAUSTED, RetryInfo and grpc-retry-pushback-ms.
    int max_in_flight = 4096;
    // The delay a refused caller is asked to wait.
    absl::Duration overload_retry_delay = absl::Seconds(1);
  };

  // `upstream` must outlive the service.
  WithdrawService(UpstreamClient* upstream, Options options);

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
