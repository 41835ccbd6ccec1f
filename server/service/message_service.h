#ifndef OSM_SERVER_SERVICE_MESSAGE_SERVICE_H_
#define OSM_SERVER_SERVICE_MESSAGE_SERVICE_H_

#include <atomic>
#include <memory>

#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/base/timer_queue.h"
#include "server/service/service_options.h"
#include "server/service/watch_call.h"
#include "server/upstream/upstream_client.h"

namespace osm {

// MessageService on gRPC's callback API. Each unary call runs its request
// pipeline, hands one transfer to the UpstreamClient and finishes from the
// client's callback (UnaryCall, unary_call.h): no thread waits for the
// upstream. Unary calls share one --max_in_flight admission; watches
// (WatchCall, watch_call.h) have their own, --max_watches.
class OsmMessageService final : public huaweicloud::osm::v2::MessageService::CallbackService {
 public:
  using Options = ServiceOptions;

  // `upstream` (and `options.pipeline.credentials`) must outlive the service.
  OsmMessageService(UpstreamClient* upstream, Options options);
  ~OsmMessageService() override;

  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* context,
                                     const huaweicloud::osm::v2::WithdrawRequest* request,
                                     huaweicloud::osm::v2::WithdrawResponse* response) override;
  grpc::ServerUnaryReactor* SendMessage(
      grpc::CallbackServerContext* context, const huaweicloud::osm::v2::SendMessageRequest* request,
      huaweicloud::osm::v2::SendMessageResponse* response) override;
  grpc::ServerUnaryReactor* ListMessages(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::ListMessagesRequest* request,
      huaweicloud::osm::v2::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* ListMoreMessages(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::ListMoreMessagesRequest* request,
      huaweicloud::osm::v2::ListMoreMessagesResponse* response) override;
  grpc::ServerUnaryReactor* PollNewMessages(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::PollNewMessagesRequest* request,
      huaweicloud::osm::v2::PollNewMessagesResponse* response) override;
  grpc::ServerUnaryReactor* CountUnreadMessages(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::CountUnreadMessagesRequest* request,
      huaweicloud::osm::v2::CountUnreadMessagesResponse* response) override;
  grpc::ServerUnaryReactor* MarkMessagesRead(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::MarkMessagesReadRequest* request,
      huaweicloud::osm::v2::MarkMessagesReadResponse* response) override;
  grpc::ServerUnaryReactor* ListCaseMessages(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::ListCaseMessagesRequest* request,
      huaweicloud::osm::v2::ListCaseMessagesResponse* response) override;
  grpc::ServerWriteReactor<huaweicloud::osm::v2::WatchNewMessagesResponse>* WatchNewMessages(
      grpc::CallbackServerContext* context,
      const huaweicloud::osm::v2::WatchNewMessagesRequest* request) override;

  // Before the server shuts down: refuses new watches and ends every open
  // one with UNAVAILABLE once what it has in flight has been sent, so that
  // callers resume on another replica from their last marker.
  void EndWatches() { watches_.Close(); }

 private:
  // Admits the call or refuses it for overload, and runs it.
  template <typename Operation>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  const typename Operation::Request* request,
                                  typename Operation::Response* response);

  UpstreamClient* const upstream_;
  const Options options_;
  // Unary calls admitted and not yet done.
  std::atomic<int> in_flight_{0};
  // The watches' next polls.
  TimerQueue timers_;
  WatchRegistry watches_;
};

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_MESSAGE_SERVICE_H_
