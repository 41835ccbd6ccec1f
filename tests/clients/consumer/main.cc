// Uses what the installed package promises: the client library, the
// generated contract and google.rpc types, the .proto files and the service
// config. Exit status 0 when all of them work.

#include <fstream>
#include <iostream>
#include <string>

#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "osm/client/withdraw_client.h"
#include "osm/client/withdraw_error_details.h"

namespace {

int Fail(const std::string& what) {
  std::cerr << "osm_consumer: " << what << "\n";
  return 1;
}

}  // namespace

int main() {
  if (!std::ifstream(OSM_CONTRACT_PROTO)) return Fail("missing " OSM_CONTRACT_PROTO);
  std::ifstream config_file(OSM_SERVICE_CONFIG_FILE);
  const std::string config((std::istreambuf_iterator<char>(config_file)),
                           std::istreambuf_iterator<char>());
  if (config != osm::client::DefaultServiceConfig()) {
    return Fail("the installed service config differs from the compiled-in one");
  }

  // A real call through the generated stub: nothing listens on port 1.
  const osm::client::WithdrawClient client(
      osm::client::CreateWithdrawChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
      osm::client::IamTokenCredentials("consumer-token"));
  osm::client::WithdrawRequest request;
  request.set_case_id("case-1");
  request.set_message_id("msg-1");
  const absl::StatusOr<osm::client::WithdrawResponse> result =
      client.Withdraw(request, absl::Now() + absl::Seconds(10));
  if (result.status().code() != absl::StatusCode::kUnavailable) {
    return Fail("expected UNAVAILABLE, got " + result.status().ToString());
  }

  // The error details, decoded through the package's google.rpc types.
  google::rpc::Status rpc;
  google::rpc::ErrorInfo info;
  info.set_reason("CASE_NOT_FOUND");
  (*info.mutable_metadata())["errorCode"] = "OSM.01010015";
  rpc.add_details()->PackFrom(info);
  const auto details = osm::client::WithdrawErrorDetails::FromStatus(osm::client::ToAbslStatus(
      grpc::Status(grpc::StatusCode::NOT_FOUND, "no case", rpc.SerializeAsString())));
  if (details.reason() != "CASE_NOT_FOUND" || details.upstream_error_code() != "OSM.01010015") {
    return Fail("details were not decoded");
  }
  std::cout << "osm_consumer: OK\n";
  return 0;
}
