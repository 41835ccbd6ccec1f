#include "client/cli_common.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "osm/client/message_client.h"
#include "osm/client/withdraw_client.h"
#include "osm/client/withdraw_error_details.h"

ABSL_FLAG(std::string, target, "localhost:50051", "adapter address, HOST:PORT");
ABSL_FLAG(std::string, language, "", "X-Language for OSM, e.g. en-us");
ABSL_FLAG(std::string, time_zone, "", "X-Time-Zone for OSM, e.g. GMT+8");
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

namespace osm::client::cli {
namespace {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFlags() {
  if (absl::GetFlag(FLAGS_tls_cert_file).empty() != absl::GetFlag(FLAGS_tls_key_file).empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (absl::GetFlag(FLAGS_tls_ca_file).empty() && absl::GetFlag(FLAGS_tls_cert_file).empty()) {
    return grpc::InsecureChannelCredentials();
  }
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
      return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
    }
    *target = contents.str();
  }
  return grpc::SslCredentials(tls);
}

}  // namespace

absl::StatusOr<Connection> ConnectFromFlags() {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials =
      ChannelCredentialsFromFlags();
  if (!channel_credentials.ok()) return channel_credentials.status();
  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) {
    if (const char* env = std::getenv("OSM_AUTH_TOKEN"); env != nullptr) token = env;
  }
  Connection connection;
  connection.channel = CreateMessageChannel(absl::GetFlag(FLAGS_target), *channel_credentials);
  if (!token.empty()) connection.call_credentials = IamTokenCredentials(std::move(token));
  return connection;
}

std::string PrettyJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return message.ShortDebugString();
  }
  return json;
}

void PrintError(const absl::Status& status, std::ostream& out) {
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(status);
  out << "status: " << absl::StatusCodeToString(status.code()) << " ("
      << static_cast<int>(status.code()) << ")\n"
      << "message: " << status.message() << "\n";
  if (!details.request_id().empty()) out << "x-request-id: " << details.request_id() << "\n";
  if (details.has_details()) out << "details: " << PrettyJson(details.rpc_status());
  out << "\n";
}

}  // namespace osm::client::cli
