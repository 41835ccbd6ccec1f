#ifndef OSM_CLIENT_MESSAGE_CLIENT_H_
#define OSM_CLIENT_MESSAGE_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "osm/client/withdraw_client.h"

namespace osm::client {

using huaweicloud::osm::v2::CountUnreadMessagesRequest;
using huaweicloud::osm::v2::CountUnreadMessagesResponse;
using huaweicloud::osm::v2::ListCaseMessagesRequest;
using huaweicloud::osm::v2::ListCaseMessagesResponse;
using huaweicloud::osm::v2::ListMessagesRequest;
using huaweicloud::osm::v2::ListMessagesResponse;
using huaweicloud::osm::v2::ListMoreMessagesRequest;
using huaweicloud::osm::v2::ListMoreMessagesResponse;
using huaweicloud::osm::v2::MarkMessagesReadRequest;
using huaweicloud::osm::v2::MarkMessagesReadResponse;
using huaweicloud::osm::v2::PollNewMessagesRequest;
using huaweicloud::osm::v2::PollNewMessagesResponse;
using huaweicloud::osm::v2::SendMessageRequest;
using huaweicloud::osm::v2::SendMessageResponse;
using huaweicloud::osm::v2::WatchNewMessagesRequest;
using huaweicloud::osm::v2::WatchNewMessagesResponse;

// The largest answer (one message, or one batch of a watch) that a channel
// made by CreateMessageChannel or CreateWithdrawChannel accepts: 16 MiB,
// gRPC's GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH. gRPC's default, 4 MiB, is too
// small for the adapter's list answers (up to 100 messages of up to 10,000
// characters each, with their attachments). A channel made elsewhere needs
// the same setting: grpc::ChannelArguments::SetMaxReceiveMessageSize.
inline constexpr int kMaxResponseBytes = 16 * 1024 * 1024;

// A channel to the adapter at `target` ("host:port") that applies
// `service_config` (JSON; empty for none) and accepts answers up to
// kMaxResponseBytes.
std::shared_ptr<grpc::Channel> CreateMessageChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::string_view service_config = DefaultServiceConfig());

// Ends a MessageClient::WatchNewMessages call from any thread:
//
//   WatchCanceller canceller;
//   std::thread watcher([&] {
//     absl::Status end = client.WatchNewMessages(request, absl::InfiniteFuture(),
//                                                print_batch, &canceller);
//     // end.code() is CANCELLED after canceller.Cancel().
//   });
//   ...
//   canceller.Cancel();
//   watcher.join();
//
// One canceller serves one watch at a time. Once cancelled it stays
// cancelled: a watch that starts with it later ends CANCELLED at once.
class WatchCanceller {
 public:
  WatchCanceller() = default;
  WatchCanceller(const WatchCanceller&) = delete;
  WatchCanceller& operator=(const WatchCanceller&) = delete;

  // Cancels the watch in progress (it returns CANCELLED soon after, without
  // waiting for the adapter), or the next one to start. Thread-safe,
  // non-blocking, and may be called any number of times.
  void Cancel();
  bool cancelled() const;

 private:
  friend class MessageClient;

  // The watch's context, while the watch runs; cancelled at once if
  // Cancel() came first.
  void Attach(grpc::ClientContext* context);
  void Detach();

  // Guards the two below. A std::mutex, which ThreadSanitizer sees (Debian's
  // Abseil is not built with it, so absl::Mutex's ordering is invisible).
  mutable std::mutex mu_;
  grpc::ClientContext* context_ = nullptr;
  bool cancelled_ = false;
};

// The operations of MessageService (OSM's message group) with absl results.
// Thread-safe; cheap to copy.
//
// For each unary RPC Foo there are:
//   Foo(request, deadline)               blocks until the adapter answers or
//                                        `deadline` passes; the deadline
//                                        also bounds the adapter's call to
//                                        OSM, and the channel's service
//                                        config may cap it further;
//   Foo(request, deadline, credentials)  the same with these call
//                                        credentials instead of the client's;
//   FooAsync(request, deadline, done)    starts the call and returns at
//                                        once; `done` runs once, on a gRPC
//                                        thread, with what Foo() would have
//                                        returned. It must not block.
//
// A non-OK result carries the gRPC code and message, and the
// google.rpc.Status the adapter attached as a payload: read it with
// WithdrawErrorDetails::FromStatus (withdraw_error_details.h), which also
// decodes the OsmAnswer detail of these operations. SendMessage is not
// idempotent: the default service config never retries it, and a caller
// should not either unless it has checked (ListCaseMessages) that the
// message is not there.
class MessageClient {
 public:
  template <typename Response>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<Response>) &&>;
  // Receives each batch of a watch, on the thread that called
  // WatchNewMessages; the next batch is read once it returns.
  using BatchCallback = absl::AnyInvocable<void(const WatchNewMessagesResponse&)>;

  // `channel`: for example CreateMessageChannel(target, credentials).
  // `credentials` are attached to every call that does not bring its own:
  // IamTokenCredentials(token), or any grpc::CallCredentials. Null sends
  // none; the adapter then answers UNAUTHENTICATED.
  explicit MessageClient(std::shared_ptr<grpc::ChannelInterface> channel,
                         std::shared_ptr<grpc::CallCredentials> credentials = nullptr);

  // Adds a message to a case. Never retried by the default service config.
  absl::StatusOr<SendMessageResponse> SendMessage(const SendMessageRequest& request,
                                                  absl::Time deadline) const;
  absl::StatusOr<SendMessageResponse> SendMessage(
      const SendMessageRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void SendMessageAsync(const SendMessageRequest& request, absl::Time deadline,
                        Callback<SendMessageResponse> done) const;

  // One page of a case's messages, by offset.
  absl::StatusOr<ListMessagesResponse> ListMessages(const ListMessagesRequest& request,
                                                    absl::Time deadline) const;
  absl::StatusOr<ListMessagesResponse> ListMessages(
      const ListMessagesRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void ListMessagesAsync(const ListMessagesRequest& request, absl::Time deadline,
                         Callback<ListMessagesResponse> done) const;

  // The messages after a cursor (a message's create_time and type).
  absl::StatusOr<ListMoreMessagesResponse> ListMoreMessages(const ListMoreMessagesRequest& request,
                                                            absl::Time deadline) const;
  absl::StatusOr<ListMoreMessagesResponse> ListMoreMessages(
      const ListMoreMessagesRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void ListMoreMessagesAsync(const ListMoreMessagesRequest& request, absl::Time deadline,
                             Callback<ListMoreMessagesResponse> done) const;

  // The new messages of some cases since a marker, once (WatchNewMessages
  // polls for you).
  absl::StatusOr<PollNewMessagesResponse> PollNewMessages(const PollNewMessagesRequest& request,
                                                          absl::Time deadline) const;
  absl::StatusOr<PollNewMessagesResponse> PollNewMessages(
      const PollNewMessagesRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void PollNewMessagesAsync(const PollNewMessagesRequest& request, absl::Time deadline,
                            Callback<PollNewMessagesResponse> done) const;

  // How many unread messages some cases have.
  absl::StatusOr<CountUnreadMessagesResponse> CountUnreadMessages(
      const CountUnreadMessagesRequest& request, absl::Time deadline) const;
  absl::StatusOr<CountUnreadMessagesResponse> CountUnreadMessages(
      const CountUnreadMessagesRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void CountUnreadMessagesAsync(const CountUnreadMessagesRequest& request, absl::Time deadline,
                                Callback<CountUnreadMessagesResponse> done) const;

  // Marks every message of a case read. Idempotent.
  absl::StatusOr<MarkMessagesReadResponse> MarkMessagesRead(const MarkMessagesReadRequest& request,
                                                            absl::Time deadline) const;
  absl::StatusOr<MarkMessagesReadResponse> MarkMessagesRead(
      const MarkMessagesReadRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void MarkMessagesReadAsync(const MarkMessagesReadRequest& request, absl::Time deadline,
                             Callback<MarkMessagesReadResponse> done) const;

  // Every message of a case with its message_id, which Withdraw takes.
  absl::StatusOr<ListCaseMessagesResponse> ListCaseMessages(const ListCaseMessagesRequest& request,
                                                            absl::Time deadline) const;
  absl::StatusOr<ListCaseMessagesResponse> ListCaseMessages(
      const ListCaseMessagesRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void ListCaseMessagesAsync(const ListCaseMessagesRequest& request, absl::Time deadline,
                             Callback<ListCaseMessagesResponse> done) const;

  // Withdraws a message, as WithdrawClient does.
  absl::StatusOr<WithdrawResponse> Withdraw(const WithdrawRequest& request,
                                            absl::Time deadline) const;
  absl::StatusOr<WithdrawResponse> Withdraw(
      const WithdrawRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;
  void WithdrawAsync(const WithdrawRequest& request, absl::Time deadline,
                     Callback<WithdrawResponse> done) const;

  // Watches some cases for new messages: calls `on_batch` with each batch
  // as it arrives, and returns how the stream ended. It blocks until then:
  //   * `deadline` passes: DEADLINE_EXCEEDED (absl::InfiniteFuture() for
  //     none; the default service config sets no timeout for watches);
  //   * `canceller` (may be null) is cancelled: CANCELLED;
  //   * the adapter ends the stream: its status with its details, e.g.
  //     UNAVAILABLE (reason SHUTTING_DOWN) when it shuts down. Resume with
  //     the last batch's last_message_time_id as the request's.
  // OK only if the adapter ends the stream with OK, which the contract does
  // not do. Never retried by the default service config.
  absl::Status WatchNewMessages(const WatchNewMessagesRequest& request, absl::Time deadline,
                                BatchCallback on_batch, WatchCanceller* canceller = nullptr) const;

 private:
  std::shared_ptr<huaweicloud::osm::v2::MessageService::Stub> stub_;
  std::shared_ptr<grpc::CallCredentials> credentials_;
  WithdrawClient withdraw_;
};

}  // namespace osm::client

#endif  // OSM_CLIENT_MESSAGE_CLIENT_H_
