#ifndef OSM_TESTS_CLIENTS_FAKE_MESSAGE_SERVICE_H_
#define OSM_TESTS_CLIENTS_FAKE_MESSAGE_SERVICE_H_

#include <grpcpp/server.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/base/mutex.h"

namespace osm::testing {

// What one call brought to FakeMessageService.
struct ReceivedCall {
  std::string method;  // e.g. "ListMessages"
  std::shared_ptr<const google::protobuf::Message> request;
  std::vector<std::string> auth_tokens;     // every x-auth-token value, in order
  std::optional<absl::Duration> time_left;  // until the call's deadline, if it has one
};

// MessageService as the client sees the adapter: scripted answers, and a
// record of every call. Thread-safe.
class FakeMessageService final : public huaweicloud::osm::v2::MessageService::CallbackService {
 public:
  // Unary calls whose response type is that of `response` answer it.
  void SetResponse(const google::protobuf::Message& response);
  // Every call of `method` (e.g. "SendMessage") ends with `status` instead.
  void SetError(const std::string& method, grpc::Status status);
  // WatchNewMessages sends `batches`, then ends with `end`; without `end`
  // it stays open until the client cancels.
  void SetWatch(std::vector<huaweicloud::osm::v2::WatchNewMessagesResponse> batches,
                std::optional<grpc::Status> end);

  std::vector<ReceivedCall> calls() const;
  int call_count(const std::string& method) const;
  // Waits until a watch has seen its client cancel; false on time-out.
  bool WaitForWatchCancelled(absl::Duration timeout);

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

 private:
  class WatchReactor;

  void NoteWatchCancelled();
  void Record(const std::string& method, grpc::CallbackServerContext& context,
              const google::protobuf::Message& request);
  // Records the call and finishes it with the scripted answer.
  grpc::ServerUnaryReactor* Answer(const std::string& method, grpc::CallbackServerContext* context,
                                   const google::protobuf::Message& request,
                                   google::protobuf::Message* response);

  // osm::Mutex (std::mutex), not absl::Mutex: ThreadSanitizer sees it.
  mutable Mutex mu_;
  CondVar changed_;
  std::vector<ReceivedCall> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<google::protobuf::Message>> responses_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, grpc::Status> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<huaweicloud::osm::v2::WatchNewMessagesResponse> watch_batches_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> watch_end_ ABSL_GUARDED_BY(mu_);
  int watch_cancels_ ABSL_GUARDED_BY(mu_) = 0;
};

// A FakeMessageService on 127.0.0.1 and a free port.
class FakeMessageServer {
 public:
  FakeMessageServer();
  ~FakeMessageServer();

  FakeMessageService& service() { return service_; }
  // "127.0.0.1:PORT"; the port is 0 if the server did not start.
  std::string target() const;
  int port() const { return port_; }

 private:
  FakeMessageService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A non-OK status with a google.rpc.Status in its details as the adapter
// sends it: ErrorInfo (`reason`, domain "osm.myhuaweicloud.com", metadata
// errorCode, httpStatus and requestId), RequestInfo and OsmAnswer.
grpc::Status AdapterError(grpc::StatusCode code, const std::string& message,
                          const std::string& reason, const std::string& osm_error_code,
                          const std::string& request_id);

}  // namespace osm::testing

#endif  // OSM_TESTS_CLIENTS_FAKE_MESSAGE_SERVICE_H_
