// osm-withdraw: calls MessageService.Withdraw and prints the outcome.
//
// Exit status: 0 when the call is OK, the gRPC status code (1-16) when it is
// not, 64 for a usage error.

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"

ABSL_FLAG(std::string, target, "localhost:50051", "adapter address, HOST:PORT");
ABSL_FLAG(std::string, case_id, "", "case (service ticket) id, required");
ABSL_FLAG(std::string, message_id, "", "id of the message to withdraw, required");
ABSL_FLAG(std::string, language, "", "X-Language for OSM, e.g. en-us");
ABSL_FLAG(std::string, time_zone, "", "X-Time-Zone for OSM, e.g. GMT+8");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of the call");
ABSL_FLAG(std::string, token, "",
          "IAM token (default: the environment variable OSM_AUTH_TOKEN); never printed");

namespace {

constexpr int kUsageError = 64;

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : absl::StrCat("CODE_", index);
}

// Links the detail types into the binary, so that JSON printing can resolve
// them inside google.protobuf.Any.
void RegisterDetailTypes() {
  google::rpc::ErrorInfo::descriptor();
  google::rpc::BadRequest::descriptor();
  google::rpc::RetryInfo::descriptor();
  google::rpc::RequestInfo::descriptor();
  huaweicloud::osm::v2::WithdrawResponse::descriptor();
}

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

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Calls huaweicloud.osm.v2.MessageService.Withdraw through the adapter.\n"
      "Usage: osm-withdraw --case_id=ID --message_id=ID [--target=HOST:PORT] [flags]\n"
      "The IAM token comes from --token or the environment variable OSM_AUTH_TOKEN.\n"
      "Exit status: 0 if OK, else the gRPC status code (1-16); 64 for usage errors.");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] {
    return std::string("osm-withdraw " OSM_ADAPTER_VERSION "\n");
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);
  RegisterDetailTypes();

  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) {
    if (const char* env = std::getenv("OSM_AUTH_TOKEN"); env != nullptr) token = env;
  }
  if (absl::GetFlag(FLAGS_case_id).empty() || absl::GetFlag(FLAGS_message_id).empty()) {
    std::cerr << "osm-withdraw: --case_id and --message_id are required (see --help)\n";
    return kUsageError;
  }

  huaweicloud::osm::v2::WithdrawRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_message_id(absl::GetFlag(FLAGS_message_id));
  request.set_language(absl::GetFlag(FLAGS_language));
  request.set_time_zone(absl::GetFlag(FLAGS_time_zone));

  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto stub = huaweicloud::osm::v2::MessageService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  if (!token.empty()) context.AddMetadata("x-auth-token", token);

  huaweicloud::osm::v2::WithdrawResponse response;
  const grpc::Status status = stub->Withdraw(&context, request, &response);

  std::string request_id;
  for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
    if (key == "x-request-id") request_id.assign(value.data(), value.size());
  }
  if (status.ok()) {
    std::cout << "OK\n" << ToJson(response) << "\n";
    return 0;
  }
  std::cout << "status: " << CodeName(status.error_code()) << " ("
            << static_cast<int>(status.error_code()) << ")\n"
            << "message: " << status.error_message() << "\n";
  if (!request_id.empty()) std::cout << "x-request-id: " << request_id << "\n";
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    std::cout << "details: " << ToJson(details);
  }
  std::cout << "\n";
  return static_cast<int>(status.error_code());
}
