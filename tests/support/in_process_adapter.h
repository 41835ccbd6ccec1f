#ifndef OSM_TESTS_SUPPORT_IN_PROCESS_ADAPTER_H_
#define OSM_TESTS_SUPPORT_IN_PROCESS_ADAPTER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_config.h"
#include "server/app/adapter_server.h"
#include "server/upstream/upstream_client.h"

namespace osm::testing {

// The configuration a test starts from: AdapterConfig{} for `upstream_url`,
// listening on 127.0.0.1:0, without the metrics endpoint or the access log
// (tests that need them set them).
AdapterConfig TestAdapterConfig(const std::string& upstream_url);

// An AdapterServer in this process, with a stub over a real TCP channel
// and one over gRPC's in-process channel (no sockets).
class InProcessAdapter {
 public:
  // `upstream`, if given, replaces the libcurl client and must outlive this.
  explicit InProcessAdapter(const AdapterConfig& config, UpstreamClient* upstream = nullptr);

  // Start()'s outcome; the accessors below need it OK.
  const absl::Status& status() const { return status_; }
  AdapterServer& server() { return *server_; }
  huaweicloud::osm::v2::MessageService::Stub& stub() { return *stub_; }
  huaweicloud::osm::v2::MessageService::Stub& in_process_stub() { return *in_process_stub_; }
  std::string target() const;

 private:
  absl::Status status_;
  std::unique_ptr<AdapterServer> server_;
  std::unique_ptr<huaweicloud::osm::v2::MessageService::Stub> stub_;
  std::unique_ptr<huaweicloud::osm::v2::MessageService::Stub> in_process_stub_;
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_IN_PROCESS_ADAPTER_H_
