// The "null server": a bare gRPC callback server whose Withdraw answers at
// once, with no upstream. It is one half of the limit the adapter is
// measured against (the other is REST straight at nginx).

#include <grpcpp/grpcpp.h>

#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "listen address, HOST:PORT");

namespace {

class NullService final : public huaweicloud::osm::v2::MessageService::CallbackService {
  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* context,
                                     const huaweicloud::osm::v2::WithdrawRequest* /*request*/,
                                     huaweicloud::osm::v2::WithdrawResponse* response) override {
    response->set_http_status(200);
    response->set_request_id("null");
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // The same setting as the adapter, so that the comparison is fair.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  NullService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 2;
  }
  const std::string host =
      absl::GetFlag(FLAGS_listen).substr(0, absl::GetFlag(FLAGS_listen).rfind(':'));
  std::cerr << "{\"msg\":\"listening\",\"address\":\"" << host << ":" << port << "\"}" << std::endl;
  server->Wait();
  return 0;
}
