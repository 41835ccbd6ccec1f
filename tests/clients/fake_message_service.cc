#include "tests/clients/fake_message_service.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/base/hand_off.h"

namespace osm::testing {

using huaweicloud::osm::v2::WatchNewMessagesResponse;

// Sends the scripted batches one write at a time, then ends as scripted, or
// holds the stream open until the client cancels. gRPC runs OnCancel on its
// threads, possibly alongside OnWriteDone, so the choice between "write",
// "finish" and "hold" is made under a lock, and acted on outside it.
class FakeMessageService::WatchReactor final
    : public grpc::ServerWriteReactor<WatchNewMessagesResponse> {
 public:
  WatchReactor(FakeMessageService* service, std::vector<WatchNewMessagesResponse> batches,
               std::optional<grpc::Status> end)
      : service_(service), batches_(std::move(batches)), end_(std::move(end)) {
    Advance();
  }

  // gRPC runs these on its threads, ordered after what this reactor handed
  // it (StartWrite, Finish, its construction) inside its core, where
  // ThreadSanitizer cannot see it (server/base/hand_off.h).
  void OnWriteDone(bool ok) override {
    HandOffReceived(this);
    if (!ok) {
      HandOffSent(this);
      Finish(grpc::Status::CANCELLED);
      return;
    }
    Advance();
  }

  void OnCancel() override {
    HandOffReceived(this);
    FakeMessageService* const service = service_;
    bool finish_now = false;
    {
      MutexLock lock(&mu_);
      cancelled_ = true;
      finish_now = std::exchange(holding_, false);
    }
    // The last access to this reactor's members here: gRPC runs OnDone,
    // which deletes it, after OnCancel.
    HandOffSent(this);
    service->NoteWatchCancelled();
    if (finish_now) Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    HandOffReceived(this);
    delete this;
  }

 private:
  void Advance() {
    const WatchNewMessagesResponse* write = nullptr;
    std::optional<grpc::Status> finish;
    {
      MutexLock lock(&mu_);
      if (next_ < batches_.size()) {
        write = &batches_[next_++];
      } else if (end_.has_value()) {
        finish = end_;
      } else if (cancelled_) {
        finish = grpc::Status::CANCELLED;
      } else {
        holding_ = true;
      }
    }
    HandOffSent(this);
    if (write != nullptr) {
      StartWrite(write);
    } else if (finish.has_value()) {
      Finish(*finish);
    }
  }

  FakeMessageService* const service_;
  const std::vector<WatchNewMessagesResponse> batches_;
  const std::optional<grpc::Status> end_;
  Mutex mu_;
  std::size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

void FakeMessageService::SetResponse(const google::protobuf::Message& response) {
  std::unique_ptr<google::protobuf::Message> copy(response.New());
  copy->CopyFrom(response);
  MutexLock lock(&mu_);
  responses_[response.GetDescriptor()->full_name()] = std::move(copy);
}

void FakeMessageService::SetError(const std::string& method, grpc::Status status) {
  MutexLock lock(&mu_);
  errors_[method] = std::move(status);
}

void FakeMessageService::SetWatch(std::vector<WatchNewMessagesResponse> batches,
                                  std::optional<grpc::Status> end) {
  MutexLock lock(&mu_);
  watch_batches_ = std::move(batches);
  watch_end_ = std::move(end);
}

std::vector<ReceivedCall> FakeMessageService::calls() const {
  MutexLock lock(&mu_);
  return calls_;
}

int FakeMessageService::call_count(const std::string& method) const {
  MutexLock lock(&mu_);
  int count = 0;
  for (const ReceivedCall& call : calls_) count += call.method == method ? 1 : 0;
  return count;
}

bool FakeMessageService::WaitForWatchCancelled(absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [this] {
    mu_.AssertHeld();
    return watch_cancels_ > 0;
  });
}

void FakeMessageService::NoteWatchCancelled() {
  {
    MutexLock lock(&mu_);
    ++watch_cancels_;
  }
  changed_.NotifyAll();
}

void FakeMessageService::Record(const std::string& method, grpc::CallbackServerContext& context,
                                const google::protobuf::Message& request) {
  ReceivedCall call;
  call.method = method;
  std::shared_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  call.request = std::move(copy);
  const auto [begin, end] = context.client_metadata().equal_range("x-auth-token");
  for (auto it = begin; it != end; ++it) {
    call.auth_tokens.emplace_back(it->second.data(), it->second.size());
  }
  if (context.deadline() != std::chrono::system_clock::time_point::max()) {
    call.time_left = absl::FromChrono(context.deadline()) - absl::Now();
  }
  MutexLock lock(&mu_);
  calls_.push_back(std::move(call));
}

grpc::ServerUnaryReactor* FakeMessageService::Answer(const std::string& method,
                                                     grpc::CallbackServerContext* context,
                                                     const google::protobuf::Message& request,
                                                     google::protobuf::Message* response) {
  Record(method, *context, request);
  grpc::Status status;
  {
    MutexLock lock(&mu_);
    if (const auto error = errors_.find(method); error != errors_.end()) {
      status = error->second;
    } else if (const auto answer = responses_.find(response->GetDescriptor()->full_name());
               answer != responses_.end()) {
      response->CopyFrom(*answer->second);
    } else {
      status = grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("no answer for ", method));
    }
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* FakeMessageService::Withdraw(
    grpc::CallbackServerContext* context, const huaweicloud::osm::v2::WithdrawRequest* request,
    huaweicloud::osm::v2::WithdrawResponse* response) {
  return Answer("Withdraw", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::SendMessage(
    grpc::CallbackServerContext* context, const huaweicloud::osm::v2::SendMessageRequest* request,
    huaweicloud::osm::v2::SendMessageResponse* response) {
  return Answer("SendMessage", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::ListMessages(
    grpc::CallbackServerContext* context, const huaweicloud::osm::v2::ListMessagesRequest* request,
    huaweicloud::osm::v2::ListMessagesResponse* response) {
  return Answer("ListMessages", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::ListMoreMessages(
    grpc::CallbackServerContext* context,
    const huaweicloud::osm::v2::ListMoreMessagesRequest* request,
    huaweicloud::osm::v2::ListMoreMessagesResponse* response) {
  return Answer("ListMoreMessages", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::PollNewMessages(
    grpc::CallbackServerContext* context,
    const huaweicloud::osm::v2::PollNewMessagesRequest* request,
    huaweicloud::osm::v2::PollNewMessagesResponse* response) {
  return Answer("PollNewMessages", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::CountUnreadMessages(
    grpc::CallbackServerContext* context,
    const huaweicloud::osm::v2::CountUnreadMessagesRequest* request,
    huaweicloud::osm::v2::CountUnreadMessagesResponse* response) {
  return Answer("CountUnreadMessages", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::MarkMessagesRead(
    grpc::CallbackServerContext* context,
    const huaweicloud::osm::v2::MarkMessagesReadRequest* request,
    huaweicloud::osm::v2::MarkMessagesReadResponse* response) {
  return Answer("MarkMessagesRead", context, *request, response);
}

grpc::ServerUnaryReactor* FakeMessageService::ListCaseMessages(
    grpc::CallbackServerContext* context,
    const huaweicloud::osm::v2::ListCaseMessagesRequest* request,
    huaweicloud::osm::v2::ListCaseMessagesResponse* response) {
  return Answer("ListCaseMessages", context, *request, response);
}

grpc::ServerWriteReactor<WatchNewMessagesResponse>* FakeMessageService::WatchNewMessages(
    grpc::CallbackServerContext* context,
    const huaweicloud::osm::v2::WatchNewMessagesRequest* request) {
  Record("WatchNewMessages", *context, *request);
  std::vector<WatchNewMessagesResponse> batches;
  std::optional<grpc::Status> end;
  {
    MutexLock lock(&mu_);
    batches = watch_batches_;
    end = watch_end_;
  }
  return new WatchReactor(this, std::move(batches), std::move(end));
}

FakeMessageServer::FakeMessageServer() {
  // The service config asks for gRPC health checking of MessageService; the
  // adapter serves it. (Without a health service a client assumes the
  // server is healthy, but logs an error, which would mix into the
  // command-line client's output.) gRPC's switch is process-wide; an
  // adapter in this process turns it on too.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  if (server_ != nullptr && server_->GetHealthCheckService() != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(
        huaweicloud::osm::v2::MessageService::service_full_name(), true);
  }
}

FakeMessageServer::~FakeMessageServer() {
  // Cancels a watch still held open.
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
}

std::string FakeMessageServer::target() const { return absl::StrCat("127.0.0.1:", port_); }

grpc::Status AdapterError(grpc::StatusCode code, const std::string& message,
                          const std::string& reason, const std::string& osm_error_code,
                          const std::string& request_id) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain("osm.myhuaweicloud.com");
  (*info.mutable_metadata())["errorCode"] = osm_error_code;
  (*info.mutable_metadata())["httpStatus"] = "200";
  (*info.mutable_metadata())["requestId"] = request_id;
  status.add_details()->PackFrom(info);
  google::rpc::RequestInfo request_info;
  request_info.set_request_id(request_id);
  status.add_details()->PackFrom(request_info);
  huaweicloud::osm::v2::OsmAnswer answer;
  answer.set_error_code(osm_error_code);
  answer.set_error_msg(message);
  answer.set_http_status(200);
  answer.set_request_id(request_id);
  status.add_details()->PackFrom(answer);
  return grpc::Status(code, message, status.SerializeAsString());
}

}  // namespace osm::testing
