#include "osm/client/message_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/sync_stream.h>

#include <mutex>
#include <utility>

#include "client/unary_call.h"
#include "osm/client/withdraw_error_details.h"

namespace osm::client {

using internal::CallAsync;
using internal::CallBlocking;
using internal::Stub;

std::shared_ptr<grpc::Channel> CreateMessageChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::string_view service_config) {
  grpc::ChannelArguments args;
  if (!service_config.empty()) args.SetServiceConfigJSON(std::string(service_config));
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  return grpc::CreateCustomChannel(target, credentials, args);
}

void WatchCanceller::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  // TryCancel is thread-safe and does not wait for the call.
  if (context_ != nullptr) context_->TryCancel();
}

bool WatchCanceller::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

void WatchCanceller::Attach(grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  context_ = context;
  // Before the call starts, TryCancel marks the context: gRPC cancels the
  // call as soon as it is created.
  if (cancelled_) context_->TryCancel();
}

void WatchCanceller::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  context_ = nullptr;
}

MessageClient::MessageClient(std::shared_ptr<grpc::ChannelInterface> channel,
                             std::shared_ptr<grpc::CallCredentials> credentials)
    : stub_(huaweicloud::osm::v2::MessageService::NewStub(channel)),
      credentials_(credentials),
      withdraw_(std::move(channel), std::move(credentials)) {}

absl::StatusOr<SendMessageResponse> MessageClient::SendMessage(const SendMessageRequest& request,
                                                               absl::Time deadline) const {
  return SendMessage(request, deadline, credentials_);
}
absl::StatusOr<SendMessageResponse> MessageClient::SendMessage(
    const SendMessageRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::SendMessage, request, deadline, credentials);
}
void MessageClient::SendMessageAsync(const SendMessageRequest& request, absl::Time deadline,
                                     Callback<SendMessageResponse> done) const {
  CallAsync(*stub_, &Stub::async::SendMessage, request, deadline, credentials_, std::move(done));
}

absl::StatusOr<ListMessagesResponse> MessageClient::ListMessages(const ListMessagesRequest& request,
                                                                 absl::Time deadline) const {
  return ListMessages(request, deadline, credentials_);
}
absl::StatusOr<ListMessagesResponse> MessageClient::ListMessages(
    const ListMessagesRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::ListMessages, request, deadline, credentials);
}
void MessageClient::ListMessagesAsync(const ListMessagesRequest& request, absl::Time deadline,
                                      Callback<ListMessagesResponse> done) const {
  CallAsync(*stub_, &Stub::async::ListMessages, request, deadline, credentials_, std::move(done));
}

absl::StatusOr<ListMoreMessagesResponse> MessageClient::ListMoreMessages(
    const ListMoreMessagesRequest& request, absl::Time deadline) const {
  return ListMoreMessages(request, deadline, credentials_);
}
absl::StatusOr<ListMoreMessagesResponse> MessageClient::ListMoreMessages(
    const ListMoreMessagesRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::ListMoreMessages, request, deadline, credentials);
}
void MessageClient::ListMoreMessagesAsync(const ListMoreMessagesRequest& request,
                                          absl::Time deadline,
                                          Callback<ListMoreMessagesResponse> done) const {
  CallAsync(*stub_, &Stub::async::ListMoreMessages, request, deadline, credentials_,
            std::move(done));
}

absl::StatusOr<PollNewMessagesResponse> MessageClient::PollNewMessages(
    const PollNewMessagesRequest& request, absl::Time deadline) const {
  return PollNewMessages(request, deadline, credentials_);
}
absl::StatusOr<PollNewMessagesResponse> MessageClient::PollNewMessages(
    const PollNewMessagesRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::PollNewMessages, request, deadline, credentials);
}
void MessageClient::PollNewMessagesAsync(const PollNewMessagesRequest& request, absl::Time deadline,
                                         Callback<PollNewMessagesResponse> done) const {
  CallAsync(*stub_, &Stub::async::PollNewMessages, request, deadline, credentials_,
            std::move(done));
}

absl::StatusOr<CountUnreadMessagesResponse> MessageClient::CountUnreadMessages(
    const CountUnreadMessagesRequest& request, absl::Time deadline) const {
  return CountUnreadMessages(request, deadline, credentials_);
}
absl::StatusOr<CountUnreadMessagesResponse> MessageClient::CountUnreadMessages(
    const CountUnreadMessagesRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::CountUnreadMessages, request, deadline, credentials);
}
void MessageClient::CountUnreadMessagesAsync(const CountUnreadMessagesRequest& request,
                                             absl::Time deadline,
                                             Callback<CountUnreadMessagesResponse> done) const {
  CallAsync(*stub_, &Stub::async::CountUnreadMessages, request, deadline, credentials_,
            std::move(done));
}

absl::StatusOr<MarkMessagesReadResponse> MessageClient::MarkMessagesRead(
    const MarkMessagesReadRequest& request, absl::Time deadline) const {
  return MarkMessagesRead(request, deadline, credentials_);
}
absl::StatusOr<MarkMessagesReadResponse> MessageClient::MarkMessagesRead(
    const MarkMessagesReadRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::MarkMessagesRead, request, deadline, credentials);
}
void MessageClient::MarkMessagesReadAsync(const MarkMessagesReadRequest& request,
                                          absl::Time deadline,
                                          Callback<MarkMessagesReadResponse> done) const {
  CallAsync(*stub_, &Stub::async::MarkMessagesRead, request, deadline, credentials_,
            std::move(done));
}

absl::StatusOr<ListCaseMessagesResponse> MessageClient::ListCaseMessages(
    const ListCaseMessagesRequest& request, absl::Time deadline) const {
  return ListCaseMessages(request, deadline, credentials_);
}
absl::StatusOr<ListCaseMessagesResponse> MessageClient::ListCaseMessages(
    const ListCaseMessagesRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return CallBlocking(*stub_, &Stub::ListCaseMessages, request, deadline, credentials);
}
void MessageClient::ListCaseMessagesAsync(const ListCaseMessagesRequest& request,
                                          absl::Time deadline,
                                          Callback<ListCaseMessagesResponse> done) const {
  CallAsync(*stub_, &Stub::async::ListCaseMessages, request, deadline, credentials_,
            std::move(done));
}

absl::StatusOr<WithdrawResponse> MessageClient::Withdraw(const WithdrawRequest& request,
                                                         absl::Time deadline) const {
  return withdraw_.Withdraw(request, deadline);
}
absl::StatusOr<WithdrawResponse> MessageClient::Withdraw(
    const WithdrawRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  return withdraw_.Withdraw(request, deadline, credentials);
}
void MessageClient::WithdrawAsync(const WithdrawRequest& request, absl::Time deadline,
                                  Callback<WithdrawResponse> done) const {
  withdraw_.WithdrawAsync(request, deadline, std::move(done));
}

absl::Status MessageClient::WatchNewMessages(const WatchNewMessagesRequest& request,
                                             absl::Time deadline, BatchCallback on_batch,
                                             WatchCanceller* canceller) const {
  grpc::ClientContext context;
  internal::PrepareContext(context, deadline, credentials_);
  if (canceller != nullptr) canceller->Attach(&context);
  std::unique_ptr<grpc::ClientReader<WatchNewMessagesResponse>> reader =
      stub_->WatchNewMessages(&context, request);
  WatchNewMessagesResponse batch;
  while (reader->Read(&batch)) on_batch(batch);
  const grpc::Status status = reader->Finish();
  // The context must outlive every TryCancel.
  if (canceller != nullptr) canceller->Detach();
  return ToAbslStatus(status);
}

}  // namespace osm::client
