// osm-withdraw: calls MessageService.Withdraw and prints the outcome.
//
// Exit status: 0 when the call is OK, the gRPC status code (1-16) when it is
// not, 64 for a usage error. --json prints the outcome as one line of JSON.

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli_common.h"
#include "osm/client/withdraw_client.h"
#include "osm/client/withdraw_json.h"
#include "server/base/flags_help.h"

// The connection, token, language, time zone and --json flags are in
// client/cli_common.cc.
ABSL_FLAG(std::string, case_id, "", "case (service ticket) id, required");
ABSL_FLAG(std::string, message_id, "", "id of the message to withdraw, required");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of the call");

namespace {

using osm::client::WithdrawRequest;
using osm::client::WithdrawResponse;
using osm::client::cli::kUsageError;

// The flags --help lists, in this order.
constexpr absl::string_view kFlagNames[] = {
    "target", "case_id",     "message_id",    "language",     "time_zone", "timeout",
    "token",  "tls_ca_file", "tls_cert_file", "tls_key_file", "json"};

constexpr char kUsage[] =
    "osm-withdraw: calls huaweicloud.osm.v2.MessageService.Withdraw through the adapter.\n"
    "Usage: osm-withdraw --case_id=ID --message_id=ID [--target=HOST:PORT] [--json] [flags]\n"
    "The IAM token comes from --token or the environment variable OSM_AUTH_TOKEN.\n"
    "Exit status: 0 if OK, else the gRPC status code (1-16); 64 for usage errors.";

}  // namespace

int main(int argc, char** argv) {
  if (osm::HandleHelpFlag(argc, argv, kUsage, kFlagNames, std::cout)) return 0;
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] {
    return std::string("osm-withdraw " OSM_ADAPTER_VERSION "\n");
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);

  if (absl::GetFlag(FLAGS_case_id).empty() || absl::GetFlag(FLAGS_message_id).empty()) {
    std::cerr << "osm-withdraw: --case_id and --message_id are required (see --help)\n";
    return kUsageError;
  }

  WithdrawRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_message_id(absl::GetFlag(FLAGS_message_id));
  request.set_language(absl::GetFlag(FLAGS_language));
  request.set_time_zone(absl::GetFlag(FLAGS_time_zone));

  const absl::StatusOr<osm::client::cli::Connection> connection =
      osm::client::cli::ConnectFromFlags();
  if (!connection.ok()) {
    std::cerr << "osm-withdraw: " << connection.status().message() << "\n";
    return kUsageError;
  }
  const osm::client::WithdrawClient client(connection->channel, connection->call_credentials);
  const absl::StatusOr<WithdrawResponse> result =
      client.Withdraw(request, absl::Now() + absl::GetFlag(FLAGS_timeout));

  if (absl::GetFlag(FLAGS_json)) {
    std::cout << osm::client::WithdrawResultToJson(result) << "\n";
  } else {
    osm::client::cli::PrintResult(result, std::cout);
  }
  return static_cast<int>(result.status().code());
}
