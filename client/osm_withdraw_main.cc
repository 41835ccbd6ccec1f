// osm-withdraw: calls MessageService.Withdraw and prints the outcome.
//
// Exit status: 0 when the call is OK, the gRPC status code (1-16) when it is
// not, 64 for a usage error. --json prints the outcome as one line of JSON.

#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "osm/client/withdraw_client.h"
#include "osm/client/withdraw_error_details.h"
#include "osm/client/withdraw_json.h"
#include "server/base/flags_help.h"

ABSL_FLAG(std::string, target, "localhost:50051", "adapter address, HOST:PORT");
ABSL_FLAG(std::string, case_id, "", "case (service ticket) id, required");
ABSL_FLAG(std::string, message_id, "", "id of the message to withdraw, required");
ABSL_FLAG(std::string, language, "", "X-Language for OSM, e.g. en-us");
ABSL_FLAG(std::string, time_zone, "", "X-Time-Zone for OSM, e.g. GMT+8");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of the call");
ABSL_FLAG(std::string, token, "",
          "IAM token (default: the environment variable OSM_AUTH_TOKEN); never printed");
ABSL_FLAG(std::string, tls_ca_file, "",
          "TLS to the adapter: PEM CAs that sign its certificate (default: plaintext, unless "
          "another --tls_* flag is given, then the system's CAs)");
ABSL_FLAG(std::string, tls_cert_file, "",
          "TLS client certificate (PEM), for an adapter that requires mutual TLS");
ABSL_FLAG(std::string, tls_key_file, "", "the private key of --tls_cert_file (PEM)");
ABSL_FLAG(bool, json, false,
          "print the result or the error as one line of JSON (keys: status, code, message, "
          "reason, upstream_error_code, request_id, details, ...)");

namespace {

using osm::client::WithdrawErrorDetails;
using osm::client::WithdrawRequest;
using osm::client::WithdrawResponse;

constexpr int kUsageError = 64;

// The flags --help lists, in this order.
constexpr absl::string_view kFlagNames[] = {
    "target", "case_id",     "message_id",    "language",     "time_zone", "timeout",
    "token",  "tls_ca_file", "tls_cert_file", "tls_key_file", "json"};

constexpr char kUsage[] =
    "osm-withdraw: calls huaweicloud.osm.v2.MessageService.Withdraw through the adapter.\n"
    "Usage: osm-withdraw --case_id=ID --message_id=ID [--target=HOST:PORT] [--json] [flags]\n"
    "The IAM token comes from --token or the environment variable OSM_AUTH_TOKEN.\n"
    "Exit status: 0 if OK, else the gRPC status code (1-16); 64 for usage errors.";

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return message.ShortDebugString();
  }
  return json;
}

// The human-readable form: OK and the response, or the code, message, OSM's
// request id and every detail.
void PrintResult(const absl::StatusOr<WithdrawResponse>& result) {
  if (result.ok()) {
    std::cout << "OK\n" << ToJson(*result) << "\n";
    return;
  }
  const absl::Status& status = result.status();
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(status);
  std::cout << "status: " << absl::StatusCodeToString(status.code()) << " ("
            << static_cast<int>(status.code()) << ")\n"
            << "message: " << status.message() << "\n";
  if (!details.request_id().empty()) std::cout << "x-request-id: " << details.request_id() << "\n";
  if (details.has_details()) std::cout << "details: " << ToJson(details.rpc_status());
  std::cout << "\n";
}

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

  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) {
    if (const char* env = std::getenv("OSM_AUTH_TOKEN"); env != nullptr) token = env;
  }
  if (absl::GetFlag(FLAGS_case_id).empty() || absl::GetFlag(FLAGS_message_id).empty()) {
    std::cerr << "osm-withdraw: --case_id and --message_id are required (see --help)\n";
    return kUsageError;
  }

  WithdrawRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_message_id(absl::GetFlag(FLAGS_message_id));
  request.set_language(absl::GetFlag(FLAGS_language));
  request.set_time_zone(absl::GetFlag(FLAGS_time_zone));

  std::shared_ptr<grpc::ChannelCredentials> channel_credentials =
      grpc::InsecureChannelCredentials();
  // A certificate without its key, or a key alone, is a mistake, never a
  // reason to fall back to plaintext.
  if (absl::GetFlag(FLAGS_tls_cert_file).empty() != absl::GetFlag(FLAGS_tls_key_file).empty()) {
    std::cerr << "osm-withdraw: --tls_cert_file and --tls_key_file go together\n";
    return kUsageError;
  }
  if (!absl::GetFlag(FLAGS_tls_ca_file).empty() || !absl::GetFlag(FLAGS_tls_cert_file).empty()) {
    grpc::SslCredentialsOptions tls;
    for (const auto& [flag, target] : {std::pair{&FLAGS_tls_ca_file, &tls.pem_root_certs},
                                       std::pair{&FLAGS_tls_cert_file, &tls.pem_cert_chain},
                                       std::pair{&FLAGS_tls_key_file, &tls.pem_private_key}}) {
      const std::string path = absl::GetFlag(*flag);
      if (path.empty()) continue;
      std::ifstream file(path);
      std::stringstream contents;
      contents << file.rdbuf();
      if (!file || contents.str().empty()) {
        std::cerr << "osm-withdraw: cannot read " << path << "\n";
        return kUsageError;
      }
      *target = contents.str();
    }
    channel_credentials = grpc::SslCredentials(tls);
  }
  const osm::client::WithdrawClient client(
      osm::client::CreateWithdrawChannel(absl::GetFlag(FLAGS_target), channel_credentials),
      token.empty() ? nullptr : osm::client::IamTokenCredentials(std::move(token)));
  const absl::StatusOr<WithdrawResponse> result =
      client.Withdraw(request, absl::Now() + absl::GetFlag(FLAGS_timeout));

  if (absl::GetFlag(FLAGS_json)) {
    std::cout << osm::client::WithdrawResultToJson(result) << "\n";
  } else {
    PrintResult(result);
  }
  return static_cast<int>(result.status().code());
}
