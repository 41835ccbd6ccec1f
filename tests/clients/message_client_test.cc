// MessageClient against a fake MessageService (in this process, over TCP on
// port 0): what each method sends, and that answers, errors and their
// details come back exactly; the watch's batches, end and cancellation; the
// 16 MiB answer limit of the library's channels.

#include "osm/client/message_client.h"

#include <google/protobuf/text_format.h>
#include <grpcpp/create_channel.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "osm/client/withdraw_error_details.h"
#include "server/base/mutex.h"
#include "tests/clients/fake_message_service.h"

namespace osm::client {
namespace {

using ::testing::ElementsAre;
using testing::FakeMessageServer;
using ::testing::IsEmpty;
using testing::ReceivedCall;

constexpr char kToken[] = "message-client-token-7f3a";
constexpr char kOtherToken[] = "per-call-token-22c9";
constexpr absl::Duration kTimeout = absl::Seconds(10);

template <typename Message>
Message ParseText(const char* text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

absl::Time In(absl::Duration timeout) { return absl::Now() + timeout; }

// How each RPC is called: Call (blocking, the client's credentials),
// CallWith (blocking, these credentials) and CallAsync.
#define OSM_RPC_CALLS(Method)                                                                     \
  static absl::StatusOr<Response> Call(const MessageClient& client, const Request& request,       \
                                       absl::Time deadline) {                                     \
    return client.Method(request, deadline);                                                      \
  }                                                                                               \
  static absl::StatusOr<Response> CallWith(                                                       \
      const MessageClient& client, const Request& request, absl::Time deadline,                   \
      const std::shared_ptr<grpc::CallCredentials>& credentials) {                                \
    return client.Method(request, deadline, credentials);                                         \
  }                                                                                               \
  static void CallAsync(const MessageClient& client, const Request& request, absl::Time deadline, \
                        MessageClient::Callback<Response> done) {                                 \
    client.Method##Async(request, deadline, std::move(done));                                     \
  }                                                                                               \
  static constexpr char kMethod[] = #Method

// Each RPC with a request that sets every field and an answer that does.
struct SendMessageRpc {
  using Request = SendMessageRequest;
  using Response = SendMessageResponse;
  static constexpr char kRequest[] =
      R"pb(case_id: "c1"
           content: "hello"
           accessory_ids: "a1"
           accessory_ids: "a2"
           group_id: "g1"
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_INTERNATIONAL)pb";
  static constexpr char kResponse[] = R"pb(request_id: "req-send")pb";
  OSM_RPC_CALLS(SendMessage);
};

struct ListMessagesRpc {
  using Request = ListMessagesRequest;
  using Response = ListMessagesResponse;
  static constexpr char kRequest[] =
      R"pb(case_id: "c1"
           offset: 20
           limit: 10
           group_id: "g1"
           keep_rich_text: true
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_CHINA)pb";
  static constexpr char kResponse[] =
      R"pb(total_count: 31
           messages {
             type: 1
             replier_type: 1
             replier: "e1"
             replier_name: "Support"
             content: "hi"
             create_time: "2024-01-02T03:04:05Z"
             create_timestamp { seconds: 1704164645 }
             iam_user_type: 2
             attachments { accessory_id: "a1" file_name: "log.txt" }
           }
           next_offset: 30
           request_id: "req-list")pb";
  OSM_RPC_CALLS(ListMessages);
};

struct ListMoreMessagesRpc {
  using Request = ListMoreMessagesRequest;
  using Response = ListMoreMessagesResponse;
  static constexpr char kRequest[] =
      R"pb(case_id: "c1"
           create_time: "2024-01-02 03:04:05"
           type: 1
           limit: 5
           group_id: "g1"
           keep_rich_text: true
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_CHINA)pb";
  static constexpr char kResponse[] =
      R"pb(total_count: 2
           messages { content: "later" create_time: "2024-01-02 03:05:00" }
           request_id: "req-more")pb";
  OSM_RPC_CALLS(ListMoreMessages);
};

struct PollNewMessagesRpc {
  using Request = PollNewMessagesRequest;
  using Response = PollNewMessagesResponse;
  static constexpr char kRequest[] =
      R"pb(case_ids: "c1"
           case_ids: "c2"
           last_message_time_id: "m-17"
           group_id: "g1"
           keep_rich_text: true
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_CHINA)pb";
  static constexpr char kResponse[] =
      R"pb(cases {
             case_id: "c1"
             messages { content: "new" is_first_message: true }
           }
           read_statuses { case_id: "c1" read: true }
           last_message_time_id: "m-18"
           request_id: "req-poll")pb";
  OSM_RPC_CALLS(PollNewMessages);
};

struct CountUnreadMessagesRpc {
  using Request = CountUnreadMessagesRequest;
  using Response = CountUnreadMessagesResponse;
  static constexpr char kRequest[] =
      R"pb(case_ids: "c1"
           case_ids: "c2"
           group_id: "g1"
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_INTERNATIONAL)pb";
  static constexpr char kResponse[] =
      R"pb(counts { case_id: "c1" unread_count: 3 status: 1 }
           counts { case_id: "c2" unread_count: 0 }
           request_id: "req-count")pb";
  OSM_RPC_CALLS(CountUnreadMessages);
};

struct MarkMessagesReadRpc {
  using Request = MarkMessagesReadRequest;
  using Response = MarkMessagesReadResponse;
  static constexpr char kRequest[] =
      R"pb(case_id: "c1" group_id: "g1" language: "en-us" time_zone: "GMT+8" site: SITE_CHINA)pb";
  static constexpr char kResponse[] = R"pb(request_id: "req-mark")pb";
  OSM_RPC_CALLS(MarkMessagesRead);
};

struct ListCaseMessagesRpc {
  using Request = ListCaseMessagesRequest;
  using Response = ListCaseMessagesResponse;
  static constexpr char kRequest[] =
      R"pb(case_id: "c1"
           group_id: "g1"
           keep_rich_text: true
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_INTERNATIONAL)pb";
  static constexpr char kResponse[] =
      R"pb(messages { message_id: "m1" type: 0 content: "first" }
           messages { message_id: "m2" type: 1 content: "second" }
           request_id: "req-case")pb";
  OSM_RPC_CALLS(ListCaseMessages);
};

struct WithdrawRpc {
  using Request = WithdrawRequest;
  using Response = WithdrawResponse;
  static constexpr char kRequest[] =
      R"pb(case_id: "c1" message_id: "m1" language: "en-us" time_zone: "GMT+8")pb";
  static constexpr char kResponse[] = R"pb(http_status: 200 request_id: "req-withdraw")pb";
  OSM_RPC_CALLS(Withdraw);
};

#undef OSM_RPC_CALLS

class MessageClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(server_.port(), 0); }

  MessageClient Client(std::shared_ptr<grpc::CallCredentials> credentials) const {
    return MessageClient(channel_, std::move(credentials));
  }

  // The one call the fake received.
  ReceivedCall OnlyCall() {
    const std::vector<ReceivedCall> calls = server_.service().calls();
    EXPECT_EQ(calls.size(), 1);
    return calls.empty() ? ReceivedCall{} : calls[0];
  }

  FakeMessageServer server_;
  std::shared_ptr<grpc::Channel> channel_ =
      CreateMessageChannel(server_.target(), grpc::InsecureChannelCredentials());
};

// What the adapter says for a case that does not exist. Made once: the
// details' bytes (with a map in them) are compared.
const grpc::Status& CaseNotFound() {
  static const auto* const kStatus = new grpc::Status(
      testing::AdapterError(grpc::StatusCode::NOT_FOUND, "The case does not exist.",
                            "CASE_NOT_FOUND", "OSM.01010015", "req-404"));
  return *kStatus;
}

// `status` is CaseNotFound(), its details byte for byte, and decoded.
void ExpectCaseNotFound(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "The case does not exist.");
  EXPECT_EQ(status.GetPayload(kRpcStatusPayloadUrl), absl::Cord(CaseNotFound().error_details()));
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(status);
  EXPECT_TRUE(details.has_details());
  EXPECT_EQ(details.reason(), "CASE_NOT_FOUND");
  EXPECT_EQ(details.domain(), "osm.myhuaweicloud.com");
  EXPECT_EQ(details.upstream_error_code(), "OSM.01010015");
  EXPECT_EQ(details.upstream_error_message(), "The case does not exist.");
  EXPECT_EQ(details.upstream_http_status(), 200);
  EXPECT_EQ(details.request_id(), "req-404");
  ASSERT_TRUE(details.upstream_response().has_value());
  EXPECT_EQ(details.upstream_response()->error_code(), "OSM.01010015");
}

template <typename Rpc>
class UnaryRpcTest : public MessageClientTest {
 protected:
  using Request = typename Rpc::Request;
  using Response = typename Rpc::Response;

  const Request request_ = ParseText<Request>(Rpc::kRequest);
  const Response response_ = ParseText<Response>(Rpc::kResponse);

  // The fake received exactly request_, with these tokens and a deadline
  // of about kTimeout (grpc-timeout is rounded up on the wire).
  void ExpectSent(const std::vector<std::string>& tokens) {
    const ReceivedCall call = OnlyCall();
    EXPECT_EQ(call.method, Rpc::kMethod);
    ASSERT_NE(call.request, nullptr);
    EXPECT_EQ(call.request->GetDescriptor()->full_name(), Request::descriptor()->full_name());
    EXPECT_EQ(call.request->DebugString(), request_.DebugString());
    EXPECT_EQ(call.auth_tokens, tokens);
    ASSERT_TRUE(call.time_left.has_value());
    EXPECT_GT(*call.time_left, kTimeout - absl::Seconds(5));
    EXPECT_LE(*call.time_left, kTimeout + absl::Seconds(1));
  }

  // Runs Rpc::CallAsync and waits for its callback.
  absl::StatusOr<Response> CallAsync(const MessageClient& client) {
    // osm::Mutex, not absl::Notification: ThreadSanitizer sees it.
    Mutex mu;
    CondVar changed;
    std::optional<absl::StatusOr<Response>> result;
    bool released = false;
    // Signals when the callback is destroyed, which the library does last,
    // after the call's context: the test then drops its channel after the
    // call did (gRPC releases it inside its library, out of TSan's sight).
    auto release_signal = std::shared_ptr<void>(nullptr, [&](void*) {
      MutexLock lock(&mu);
      released = true;
      changed.NotifyAll();
    });
    Rpc::CallAsync(client, request_, In(kTimeout),
                   [&, release_signal](absl::StatusOr<Response> outcome) {
                     // Under the lock: the waiter's stack holds `changed`.
                     MutexLock lock(&mu);
                     result = std::move(outcome);
                     changed.NotifyAll();
                   });
    release_signal.reset();
    MutexLock lock(&mu);
    EXPECT_TRUE(changed.WaitUntil(&mu, absl::ToChronoTime(absl::Now() + absl::Seconds(30)), [&] {
      mu.AssertHeld();
      return result.has_value() && released;
    }));
    return result.value_or(absl::InternalError("no callback"));
  }
};

using UnaryRpcs =
    ::testing::Types<SendMessageRpc, ListMessagesRpc, ListMoreMessagesRpc, PollNewMessagesRpc,
                     CountUnreadMessagesRpc, MarkMessagesReadRpc, ListCaseMessagesRpc, WithdrawRpc>;
TYPED_TEST_SUITE(UnaryRpcTest, UnaryRpcs);

TYPED_TEST(UnaryRpcTest, SendsTheRequestTokenAndDeadlineAndReturnsTheAnswer) {
  this->server_.service().SetResponse(this->response_);

  const auto result =
      TypeParam::Call(this->Client(IamTokenCredentials(kToken)), this->request_, In(kTimeout));

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->DebugString(), this->response_.DebugString());
  this->ExpectSent({kToken});
}

TYPED_TEST(UnaryRpcTest, PerCallCredentialsReplaceTheClients) {
  this->server_.service().SetResponse(this->response_);

  const auto result = TypeParam::CallWith(this->Client(IamTokenCredentials(kToken)), this->request_,
                                          In(kTimeout), IamTokenCredentials(kOtherToken));

  ASSERT_TRUE(result.ok()) << result.status();
  this->ExpectSent({kOtherToken});
}

TYPED_TEST(UnaryRpcTest, WithoutCredentialsSendsNoToken) {
  this->server_.service().SetResponse(this->response_);

  const auto result = TypeParam::Call(this->Client(nullptr), this->request_, In(kTimeout));

  ASSERT_TRUE(result.ok()) << result.status();
  this->ExpectSent({});
}

TYPED_TEST(UnaryRpcTest, AsyncReturnsTheAnswer) {
  this->server_.service().SetResponse(this->response_);

  const auto result = this->CallAsync(this->Client(IamTokenCredentials(kToken)));

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->DebugString(), this->response_.DebugString());
  this->ExpectSent({kToken});
}

TYPED_TEST(UnaryRpcTest, AnErrorComesBackWithItsDetails) {
  this->server_.service().SetError(TypeParam::kMethod, CaseNotFound());

  const auto result =
      TypeParam::Call(this->Client(IamTokenCredentials(kToken)), this->request_, In(kTimeout));

  ExpectCaseNotFound(result.status());
  this->ExpectSent({kToken});
}

TYPED_TEST(UnaryRpcTest, AsyncAnErrorComesBackWithItsDetails) {
  this->server_.service().SetError(TypeParam::kMethod, CaseNotFound());

  const auto result = this->CallAsync(this->Client(IamTokenCredentials(kToken)));

  ExpectCaseNotFound(result.status());
  this->ExpectSent({kToken});
}

WatchNewMessagesResponse Batch(const std::string& marker) {
  WatchNewMessagesResponse batch;
  auto* messages = batch.add_cases();
  messages->set_case_id("c1");
  messages->add_messages()->set_content("message before " + marker);
  batch.set_last_message_time_id(marker);
  batch.set_request_id("req-" + marker);
  return batch;
}

WatchNewMessagesRequest WatchRequest() {
  return ParseText<WatchNewMessagesRequest>(
      R"pb(case_ids: "c1"
           case_ids: "c2"
           last_message_time_id: "m-1"
           poll_interval { seconds: 2 }
           group_id: "g1"
           keep_rich_text: true
           language: "en-us"
           time_zone: "GMT+8"
           site: SITE_CHINA)pb");
}

std::vector<std::string> Markers(const std::vector<WatchNewMessagesResponse>& batches) {
  std::vector<std::string> markers;
  for (const auto& batch : batches) markers.push_back(batch.last_message_time_id());
  return markers;
}

TEST_F(MessageClientTest, WatchDeliversEveryBatchThenTheEndWithItsDetails) {
  const grpc::Status shutting_down = testing::AdapterError(
      grpc::StatusCode::UNAVAILABLE, "The adapter is shutting down.", "SHUTTING_DOWN", "", "");
  server_.service().SetWatch({Batch("m-2"), Batch("m-3"), Batch("m-4")}, shutting_down);
  std::vector<WatchNewMessagesResponse> batches;

  const absl::Status end = Client(IamTokenCredentials(kToken))
                               .WatchNewMessages(WatchRequest(), In(kTimeout),
                                                 [&](const WatchNewMessagesResponse& batch) {
                                                   batches.push_back(batch);
                                                 });

  EXPECT_EQ(end.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(end.message(), "The adapter is shutting down.");
  EXPECT_EQ(end.GetPayload(kRpcStatusPayloadUrl), absl::Cord(shutting_down.error_details()));
  EXPECT_EQ(WithdrawErrorDetails::FromStatus(end).reason(), "SHUTTING_DOWN");
  ASSERT_THAT(Markers(batches), ElementsAre("m-2", "m-3", "m-4"));
  EXPECT_EQ(batches[1].DebugString(), Batch("m-3").DebugString());
  const ReceivedCall call = OnlyCall();
  EXPECT_EQ(call.method, "WatchNewMessages");
  ASSERT_NE(call.request, nullptr);
  EXPECT_EQ(call.request->DebugString(), WatchRequest().DebugString());
  EXPECT_THAT(call.auth_tokens, ElementsAre(kToken));
  ASSERT_TRUE(call.time_left.has_value());
  EXPECT_LE(*call.time_left, kTimeout + absl::Seconds(1));
}

TEST_F(MessageClientTest, WatchEndsAtItsDeadline) {
  server_.service().SetWatch({Batch("m-2")}, std::nullopt);
  std::vector<WatchNewMessagesResponse> batches;

  const absl::Status end = Client(IamTokenCredentials(kToken))
                               .WatchNewMessages(WatchRequest(), In(absl::Milliseconds(500)),
                                                 [&](const WatchNewMessagesResponse& batch) {
                                                   batches.push_back(batch);
                                                 });

  EXPECT_EQ(end.code(), absl::StatusCode::kDeadlineExceeded) << end;
  EXPECT_THAT(Markers(batches), ElementsAre("m-2"));
}

TEST_F(MessageClientTest, WatchWithoutADeadlineSendsNone) {
  server_.service().SetWatch({}, grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no"));

  const absl::Status end = Client(IamTokenCredentials(kToken))
                               .WatchNewMessages(WatchRequest(), absl::InfiniteFuture(),
                                                 [](const WatchNewMessagesResponse&) {});

  EXPECT_EQ(end.code(), absl::StatusCode::kPermissionDenied) << end;
  EXPECT_EQ(OnlyCall().time_left, std::nullopt);
}

TEST_F(MessageClientTest, AnotherThreadCancelsAWatch) {
  server_.service().SetWatch({Batch("m-2"), Batch("m-3")}, std::nullopt);
  WatchCanceller canceller;
  Mutex mu;
  CondVar changed;
  bool second_batch = false;
  std::vector<WatchNewMessagesResponse> batches;
  std::thread canceller_thread([&] {
    {
      MutexLock lock(&mu);
      changed.Wait(&mu, [&] {
        mu.AssertHeld();
        return second_batch;
      });
    }
    canceller.Cancel();
  });

  const absl::Status end = Client(IamTokenCredentials(kToken))
                               .WatchNewMessages(
                                   WatchRequest(), In(absl::Seconds(60)),
                                   [&](const WatchNewMessagesResponse& batch) {
                                     batches.push_back(batch);
                                     if (batches.size() != 2) return;
                                     {
                                       MutexLock lock(&mu);
                                       second_batch = true;
                                     }
                                     changed.NotifyAll();
                                   },
                                   &canceller);
  canceller_thread.join();

  EXPECT_EQ(end.code(), absl::StatusCode::kCancelled) << end;
  EXPECT_THAT(Markers(batches), ElementsAre("m-2", "m-3"));
  EXPECT_TRUE(canceller.cancelled());
  // The cancellation reached the server.
  EXPECT_TRUE(server_.service().WaitForWatchCancelled(absl::Seconds(30)));
}

TEST_F(MessageClientTest, AWatchCancelledBeforeItStartsEndsAtOnce) {
  server_.service().SetWatch({Batch("m-2")}, std::nullopt);
  WatchCanceller canceller;
  canceller.Cancel();
  int batches = 0;

  const absl::Status end = Client(IamTokenCredentials(kToken))
                               .WatchNewMessages(
                                   WatchRequest(), In(absl::Seconds(60)),
                                   [&](const WatchNewMessagesResponse&) { ++batches; }, &canceller);

  EXPECT_EQ(end.code(), absl::StatusCode::kCancelled) << end;
  EXPECT_EQ(batches, 0);
}

ListMessagesResponse AnswerOfSize(int content_bytes) {
  ListMessagesResponse response;
  response.add_messages()->set_content(std::string(content_bytes, 'x'));
  response.set_request_id("req-large");
  return response;
}

TEST_F(MessageClientTest, TheLibrarysChannelsAcceptAnswersUpTo16MiB) {
  EXPECT_EQ(kMaxResponseBytes, 16 * 1024 * 1024);
  const int content_bytes = kMaxResponseBytes - 1024;
  server_.service().SetResponse(AnswerOfSize(content_bytes));
  ListMessagesRequest request;
  request.set_case_id("c1");

  const auto result =
      Client(IamTokenCredentials(kToken)).ListMessages(request, In(absl::Seconds(30)));

  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->messages_size(), 1);
  EXPECT_EQ(result->messages(0).content().size(), content_bytes);
  EXPECT_EQ(result->request_id(), "req-large");

  // CreateWithdrawChannel makes the same channel.
  const auto through_withdraw_channel =
      MessageClient(CreateWithdrawChannel(server_.target(), grpc::InsecureChannelCredentials()))
          .ListMessages(request, In(absl::Seconds(30)));
  EXPECT_TRUE(through_withdraw_channel.ok()) << through_withdraw_channel.status();
}

TEST_F(MessageClientTest, AnAnswerOver16MiBIsRefused) {
  server_.service().SetResponse(AnswerOfSize(kMaxResponseBytes));
  ListMessagesRequest request;
  request.set_case_id("c1");

  const auto result =
      Client(IamTokenCredentials(kToken)).ListMessages(request, In(absl::Seconds(30)));

  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted) << result.status();
}

// The control: gRPC's default limit (4 MiB) refuses what the library's
// channels accept.
TEST_F(MessageClientTest, AChannelWithGrpcsDefaultsRefusesA5MiBAnswer) {
  server_.service().SetResponse(AnswerOfSize(5 * 1024 * 1024));
  ListMessagesRequest request;
  request.set_case_id("c1");

  const auto result =
      MessageClient(grpc::CreateChannel(server_.target(), grpc::InsecureChannelCredentials()))
          .ListMessages(request, In(absl::Seconds(30)));

  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted) << result.status();
}

}  // namespace
}  // namespace osm::client
