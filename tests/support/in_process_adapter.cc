#include "tests/support/in_process_adapter.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"

namespace osm::testing {

AdapterConfig TestAdapterConfig(const std::string& upstream_url) {
  AdapterConfig config;
  config.listen = "127.0.0.1:0";
  config.upstream = upstream_url;
  config.metrics_listen = "";
  config.access_log = "off";
  return config;
}

InProcessAdapter::InProcessAdapter(const AdapterConfig& config, UpstreamClient* upstream) {
  absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config, upstream);
  status_ = server.status();
  if (!server.ok()) return;
  server_ = *std::move(server);
  stub_ = huaweicloud::osm::v2::MessageService::NewStub(
      grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  in_process_stub_ = huaweicloud::osm::v2::MessageService::NewStub(server_->InProcessChannel());
}

std::string InProcessAdapter::target() const { return absl::StrCat("127.0.0.1:", server_->port()); }

}  // namespace osm::testing
