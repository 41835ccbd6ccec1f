// osm-health-probe: exits 0 if the adapter at --target answers SERVING to
// grpc.health.v1.Health/Check, 1 otherwise. For container health checks.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "client/health_probe.h"
#include "server/base/flags_help.h"

ABSL_FLAG(std::string, target, "localhost:50051", "adapter address: HOST:PORT or unix:PATH");
ABSL_FLAG(std::string, service, "", "service to check (\"\": the whole server)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2), "deadline of the check");

int main(int argc, char** argv) {
  constexpr absl::string_view kFlags[] = {"target", "service", "timeout"};
  if (osm::HandleHelpFlag(argc, argv,
                          "osm-health-probe: asks an adapter's grpc.health.v1.Health whether it "
                          "serves.\nExit status: 0 if SERVING, 1 otherwise.",
                          kFlags, std::cout)) {
    return 0;
  }
  absl::ParseCommandLine(argc, argv);
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  absl::StatusOr<osm::ServingStatus> status =
      osm::CheckHealth(channel, absl::GetFlag(FLAGS_service), absl::GetFlag(FLAGS_timeout));
  if (!status.ok()) {
    std::cerr << "osm-health-probe: " << status.status().message() << "\n";
    return 1;
  }
  if (*status != osm::ServingStatus::kServing) {
    std::cerr << "osm-health-probe: status " << static_cast<int>(*status) << " (not SERVING)\n";
    return 1;
  }
  return 0;
}
