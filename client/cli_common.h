#ifndef OSM_CLIENT_CLI_COMMON_H_
#define OSM_CLIENT_CLI_COMMON_H_

// What the command-line clients (osm-withdraw, osm-messages) share: the
// connection, authentication and output flags, the channel they ask for,
// and the human-readable form of an outcome.

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

// --target, --token, --tls_ca_file, --tls_cert_file, --tls_key_file: read by
// ConnectFromFlags. --language and --time_zone: the X-Language and
// X-Time-Zone every request carries. --json: one line of JSON per outcome.
ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(std::string, tls_ca_file);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, language);
ABSL_DECLARE_FLAG(std::string, time_zone);
ABSL_DECLARE_FLAG(bool, json);

namespace osm::client::cli {

// The exit status of a usage error (sysexits' EX_USAGE); otherwise a command
// exits with the gRPC status code of its call, 0 for OK.
inline constexpr int kUsageError = 64;

struct Connection {
  // CreateMessageChannel to --target, plaintext or TLS as the --tls_* flags
  // ask.
  std::shared_ptr<grpc::Channel> channel;
  // IamTokenCredentials of --token, or else of the environment variable
  // OSM_AUTH_TOKEN; null when neither is set.
  std::shared_ptr<grpc::CallCredentials> call_credentials;
};

// The connection the flags describe, or INVALID_ARGUMENT with what is wrong
// with them (a certificate without its key, a file that cannot be read): a
// usage error, never a reason to fall back to plaintext.
absl::StatusOr<Connection> ConnectFromFlags();

// `message` in protobuf's JSON form, indented, with the proto field names.
std::string PrettyJson(const google::protobuf::Message& message);

// The human-readable form of a status that is not OK: the code, the
// message, OSM's request id and every detail.
void PrintError(const absl::Status& status, std::ostream& out);

// The human-readable form of an outcome: OK and the response, or
// PrintError.
template <typename Response>
void PrintResult(const absl::StatusOr<Response>& result, std::ostream& out) {
  if (result.ok()) {
    out << "OK\n" << PrettyJson(*result) << "\n";
  } else {
    PrintError(result.status(), out);
  }
}

}  // namespace osm::client::cli

#endif  // OSM_CLIENT_CLI_COMMON_H_
