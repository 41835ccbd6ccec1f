// client/service_config.json: what it says, and that a stub using it retries
// an upstream connection failure (UNAVAILABLE) but not a business error.
// Attempts are counted where they arrive: at the scripted upstream behind the
// real adapter, or at a fake MessageService for the operations the adapter
// does not serve yet.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "osm/client/message_client.h"
#include "osm/client/withdraw_client.h"
#include "osm/client/withdraw_error_details.h"
#include "tests/clients/client_test_env.h"
#include "tests/clients/fake_message_service.h"
#include "tests/support/scripted_upstream.h"

namespace osm::client {
namespace {

using huaweicloud::osm::v2::MessageService;
using testing::ScriptedUpstream;
using testing::UpstreamExchange;

constexpr char kToken[] = "retry-test-token";

std::string ServiceConfigFile() {
  std::ifstream file(OSM_SERVICE_CONFIG_FILE);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

google::protobuf::Struct ParseJson(const std::string& json) {
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  return parsed;
}

const google::protobuf::Struct& Field(const google::protobuf::Struct& object,
                                      const std::string& key) {
  return object.fields().at(key).struct_value();
}

TEST(ServiceConfigTest, TheCompiledInDefaultIsTheFile) {
  EXPECT_EQ(DefaultServiceConfig(), ServiceConfigFile());
}

// The methodConfig entry that names `method` of MessageService; fails the
// test unless exactly one does.
google::protobuf::Struct MethodConfig(const google::protobuf::Struct& config,
                                      const std::string& method) {
  google::protobuf::Struct found;
  int entries = 0;
  for (const auto& entry : config.fields().at("methodConfig").list_value().values()) {
    for (const auto& name : entry.struct_value().fields().at("name").list_value().values()) {
      const auto& fields = name.struct_value().fields();
      if (fields.at("service").string_value() == "huaweicloud.osm.v2.MessageService" &&
          fields.at("method").string_value() == method) {
        found = entry.struct_value();
        ++entries;
      }
    }
  }
  EXPECT_EQ(entries, 1) << method;
  return found;
}

TEST(ServiceConfigTest, NamesWithdrawSetsATimeoutAndRetriesOnlyUnavailable) {
  const google::protobuf::Struct method = MethodConfig(ParseJson(ServiceConfigFile()), "Withdraw");
  const auto& names = method.fields().at("name").list_value().values();
  ASSERT_EQ(names.size(), 1);
  EXPECT_EQ(method.fields().at("timeout").string_value(), "30s");
  const google::protobuf::Struct& retry = Field(method, "retryPolicy");
  EXPECT_EQ(retry.fields().at("maxAttempts").number_value(), 4);
  EXPECT_EQ(retry.fields().at("initialBackoff").string_value(), "0.1s");
  EXPECT_EQ(retry.fields().at("maxBackoff").string_value(), "2s");
  EXPECT_EQ(retry.fields().at("backoffMultiplier").number_value(), 2);
  const auto& codes = retry.fields().at("retryableStatusCodes").list_value().values();
  ASSERT_EQ(codes.size(), 1);
  EXPECT_EQ(codes[0].string_value(), "UNAVAILABLE");
}

TEST(ServiceConfigTest, TheReadsAndMarkMessagesReadRetryLikeWithdraw) {
  const google::protobuf::Struct config = ParseJson(ServiceConfigFile());
  const google::protobuf::Struct withdraw = MethodConfig(config, "Withdraw");
  for (const char* name : {"ListMessages", "ListMoreMessages", "PollNewMessages",
                           "CountUnreadMessages", "ListCaseMessages", "MarkMessagesRead"}) {
    SCOPED_TRACE(name);
    const google::protobuf::Struct method = MethodConfig(config, name);
    EXPECT_EQ(method.fields().at("timeout").string_value(), "30s");
    ASSERT_EQ(method.fields().count("retryPolicy"), 1);
    EXPECT_EQ(Field(method, "retryPolicy").DebugString(),
              Field(withdraw, "retryPolicy").DebugString());
  }
}

TEST(ServiceConfigTest, SendMessageAndWatchNewMessagesAreNeverRetried) {
  const google::protobuf::Struct config = ParseJson(ServiceConfigFile());
  const google::protobuf::Struct send = MethodConfig(config, "SendMessage");
  EXPECT_EQ(send.fields().count("retryPolicy"), 0);
  EXPECT_EQ(send.fields().at("timeout").string_value(), "30s");
  // A watch runs until its own deadline: no timeout either.
  const google::protobuf::Struct watch = MethodConfig(config, "WatchNewMessages");
  EXPECT_EQ(watch.fields().count("retryPolicy"), 0);
  EXPECT_EQ(watch.fields().count("timeout"), 0);
}

TEST(ServiceConfigTest, NamesEveryMethodOfTheService) {
  const google::protobuf::Struct config = ParseJson(ServiceConfigFile());
  const google::protobuf::ServiceDescriptor* service =
      WithdrawRequest::descriptor()->file()->FindServiceByName("MessageService");
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->method_count(), 9);
  for (int i = 0; i < service->method_count(); ++i)
    MethodConfig(config, service->method(i)->name());
}

// The policy as gRPC applies it, counted at a fake MessageService that
// answers UNAVAILABLE: a channel of its own per call, so that retry
// throttling does not carry over.
class ServiceConfigRetryPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(server_.port(), 0); }

  MessageClient Client() {
    return MessageClient(CreateMessageChannel(server_.target(), grpc::InsecureChannelCredentials()),
                         IamTokenCredentials(kToken));
  }

  // How many attempts of `method` the fake saw for one call made by `call`
  // while it answers UNAVAILABLE, which must be the call's end.
  int AttemptsOf(const std::string& method,
                 absl::FunctionRef<absl::Status(const MessageClient&, absl::Time)> call) {
    server_.service().SetError(method, Unavailable());
    server_.service().SetWatch({}, Unavailable());
    EXPECT_EQ(call(Client(), absl::Now() + absl::Seconds(20)).code(),
              absl::StatusCode::kUnavailable);
    return server_.service().call_count(method);
  }

  static grpc::Status Unavailable() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "OSM unreachable");
  }

  testing::FakeMessageServer server_;
};

TEST_F(ServiceConfigRetryPolicyTest, SendMessageIsSentOnce) {
  EXPECT_EQ(AttemptsOf("SendMessage",
                       [](const MessageClient& client, absl::Time deadline) {
                         SendMessageRequest request;
                         request.set_case_id("c1");
                         request.set_content("hello");
                         return client.SendMessage(request, deadline).status();
                       }),
            1);
}

TEST_F(ServiceConfigRetryPolicyTest, AReadIsTriedFourTimes) {
  EXPECT_EQ(AttemptsOf("ListCaseMessages",
                       [](const MessageClient& client, absl::Time deadline) {
                         ListCaseMessagesRequest request;
                         request.set_case_id("c1");
                         return client.ListCaseMessages(request, deadline).status();
                       }),
            4);
}

TEST_F(ServiceConfigRetryPolicyTest, MarkMessagesReadIsTriedFourTimes) {
  EXPECT_EQ(AttemptsOf("MarkMessagesRead",
                       [](const MessageClient& client, absl::Time deadline) {
                         MarkMessagesReadRequest request;
                         request.set_case_id("c1");
                         return client.MarkMessagesRead(request, deadline).status();
                       }),
            4);
}

TEST_F(ServiceConfigRetryPolicyTest, AWatchIsStartedOnce) {
  EXPECT_EQ(AttemptsOf("WatchNewMessages",
                       [](const MessageClient& client, absl::Time deadline) {
                         WatchNewMessagesRequest request;
                         request.add_case_ids("c1");
                         return client.WatchNewMessages(request, deadline,
                                                        [](const WatchNewMessagesResponse&) {});
                       }),
            1);
}

// The real adapter over TCP, and a stub whose channel uses the service
// config file (or none).
class ServiceConfigRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartAdapter(upstream_);
    ASSERT_NE(server_, nullptr);
  }

  // Resets the connection of the first `resets` requests, then answers
  // `status` with `body`.
  void ResetFirstThenAnswer(int resets, int status, std::string body) {
    upstream_.SetHandler([this, resets, status, body](UpstreamExchange& exchange) {
      if (seen_.fetch_add(1) < resets) {
        exchange.Reset();
      } else {
        exchange.Respond(status, body, {{"X-Request-Id", "req-retry"}});
      }
    });
  }

  grpc::Status Call(const std::string& service_config) {
    grpc::ChannelArguments args;
    if (!service_config.empty()) args.SetServiceConfigJSON(service_config);
    auto stub = MessageService::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials(), args));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    context.AddMetadata("x-auth-token", kToken);
    huaweicloud::osm::v2::WithdrawRequest request;
    request.set_case_id("case-1");
    request.set_message_id("msg-1");
    huaweicloud::osm::v2::WithdrawResponse response;
    return stub->Withdraw(&context, request, &response);
  }

  std::string Reason(const grpc::Status& status) {
    return WithdrawErrorDetails::FromStatus(ToAbslStatus(status)).reason();
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterServer> server_;
  std::atomic<int> seen_{0};
};

TEST_F(ServiceConfigRetryTest, RetriesAnUpstreamConnectionResetUntilOsmAnswers) {
  ResetFirstThenAnswer(2, 200, std::string(testing::kSuccessBody));

  const grpc::Status status = Call(ServiceConfigFile());

  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(upstream_.request_count(), 3);
}

TEST_F(ServiceConfigRetryTest, GivesUpAfterMaxAttemptsWithTheLastUnavailable) {
  ResetFirstThenAnswer(1000, 200, std::string(testing::kSuccessBody));

  const grpc::Status status = Call(ServiceConfigFile());

  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(Reason(status), "UPSTREAM_UNAVAILABLE");
  EXPECT_EQ(upstream_.request_count(), 4);
}

TEST_F(ServiceConfigRetryTest, DoesNotRetryABusinessError) {
  ResetFirstThenAnswer(0, 200, std::string(testing::kCaseNotFoundBody));

  const grpc::Status status = Call(ServiceConfigFile());

  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_EQ(Reason(status), "CASE_NOT_FOUND");
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(ServiceConfigRetryTest, DoesNotRetryAnInternalError) {
  ResetFirstThenAnswer(0, 500, R"({"error_code":"OSM.01010014","error_msg":"failed"})");

  const grpc::Status status = Call(ServiceConfigFile());

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
  EXPECT_EQ(upstream_.request_count(), 1);
}

// The control: the same reset without the service config is not retried.
TEST_F(ServiceConfigRetryTest, WithoutTheServiceConfigAResetFailsAtOnce) {
  ResetFirstThenAnswer(1, 200, std::string(testing::kSuccessBody));

  const grpc::Status status = Call("");

  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(Reason(status), "UPSTREAM_UNAVAILABLE");
  EXPECT_EQ(upstream_.request_count(), 1);
}

// WithdrawClient's default channel carries the same policy.
TEST_F(ServiceConfigRetryTest, CreateWithdrawChannelAppliesItByDefault) {
  ResetFirstThenAnswer(2, 200, std::string(testing::kSuccessBody));
  const WithdrawClient client(CreateWithdrawChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                    grpc::InsecureChannelCredentials()),
                              IamTokenCredentials(kToken));
  WithdrawRequest request;
  request.set_case_id("case-1");
  request.set_message_id("msg-1");

  const absl::StatusOr<WithdrawResponse> result =
      client.Withdraw(request, absl::Now() + absl::Seconds(20));

  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(upstream_.request_count(), 3);
}

}  // namespace
}  // namespace osm::client
