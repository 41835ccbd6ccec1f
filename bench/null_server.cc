// The "null server": a bare gRPC callback server whose Withdraw answers at
// once, with no upstream. It is one half of the limit the adapter is
// measured against (the other is REST straight at nginx).

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "serve.h"

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
  NullService service;
  return osm::bench::ServeForever(service, absl::GetFlag(FLAGS_listen));
}
