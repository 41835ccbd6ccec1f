#ifndef OSM_SERVER_WITHDRAW_SERVICE_H_
#define OSM_SERVER_WITHDRAW_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "upstream_client.h"

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
  };

  // `upstream` must outlive the service.
  WithdrawService(UpstreamClient* upstream, Options options);

  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* context,
                                     const huaweicloud::osm::v2::WithdrawRequest* request,
                                     huaweicloud::osm::v2::WithdrawResponse* response) override;

 private:
  UpstreamClient* const upstream_;
  const Options options_;
};

}  // namespace osm

#endif  // OSM_SERVER_WITHDRAW_SERVICE_H_
