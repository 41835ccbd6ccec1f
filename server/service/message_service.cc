#include "server/service/message_service.h"

#include <utility>

#include "server/base/hand_off.h"
#include "server/service/operations.h"
#include "server/service/unary_call.h"

namespace osm {

namespace v2 = huaweicloud::osm::v2;

OsmMessageService::OsmMessageService(UpstreamClient* upstream, Options options)
    : upstream_(upstream), options_(std::move(options)), watches_(options_.max_watches) {}

// Destroyed after the server's Shutdown(), which gRPC returns only once every
// call's OnDone has: see UnaryCall::OnDone.
OsmMessageService::~OsmMessageService() { HandOffReceived(&options_); }

template <typename Operation>
grpc::ServerUnaryReactor* OsmMessageService::Serve(grpc::CallbackServerContext* context,
                                                   const typename Operation::Request* request,
                                                   typename Operation::Response* response) {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    auto* refused =
        new UnaryCall<Operation>(upstream_, options_, nullptr, context, request, response);
    refused->RefuseForOverload();
    return refused;
  }
  auto* call =
      new UnaryCall<Operation>(upstream_, options_, &in_flight_, context, request, response);
  call->Begin();
  return call;
}

grpc::ServerUnaryReactor* OsmMessageService::Withdraw(grpc::CallbackServerContext* context,
                                                      const v2::WithdrawRequest* request,
                                                      v2::WithdrawResponse* response) {
  return Serve<WithdrawOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::SendMessage(grpc::CallbackServerContext* context,
                                                         const v2::SendMessageRequest* request,
                                                         v2::SendMessageResponse* response) {
  return Serve<SendMessageOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::ListMessages(grpc::CallbackServerContext* context,
                                                          const v2::ListMessagesRequest* request,
                                                          v2::ListMessagesResponse* response) {
  return Serve<ListMessagesOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::ListMoreMessages(
    grpc::CallbackServerContext* context, const v2::ListMoreMessagesRequest* request,
    v2::ListMoreMessagesResponse* response) {
  return Serve<ListMoreMessagesOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::PollNewMessages(
    grpc::CallbackServerContext* context, const v2::PollNewMessagesRequest* request,
    v2::PollNewMessagesResponse* response) {
  return Serve<PollNewMessagesOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::CountUnreadMessages(
    grpc::CallbackServerContext* context, const v2::CountUnreadMessagesRequest* request,
    v2::CountUnreadMessagesResponse* response) {
  return Serve<CountUnreadMessagesOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::MarkMessagesRead(
    grpc::CallbackServerContext* context, const v2::MarkMessagesReadRequest* request,
    v2::MarkMessagesReadResponse* response) {
  return Serve<MarkMessagesReadOperation>(context, request, response);
}

grpc::ServerUnaryReactor* OsmMessageService::ListCaseMessages(
    grpc::CallbackServerContext* context, const v2::ListCaseMessagesRequest* request,
    v2::ListCaseMessagesResponse* response) {
  return Serve<ListCaseMessagesOperation>(context, request, response);
}

grpc::ServerWriteReactor<v2::WatchNewMessagesResponse>* OsmMessageService::WatchNewMessages(
    grpc::CallbackServerContext* context, const v2::WatchNewMessagesRequest* request) {
  auto* watch = new WatchCall(upstream_, options_, &timers_, &watches_, context, request);
  watch->Start();
  return watch;
}

}  // namespace osm
