// WithdrawClient against the real adapter (in process, over TCP) and a
// scripted HTTP upstream, both on port 0.

#include "osm/client/withdraw_client.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "osm/client/withdraw_error_details.h"
#include "server/base/mutex.h"
#include "tests/clients/client_test_env.h"
#include "tests/support/scripted_upstream.h"

namespace osm::client {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using testing::ScriptedUpstream;
using testing::UpstreamExchange;

constexpr char kToken[] = "client-lib-token-5d1e";

WithdrawRequest MakeRequest(std::string case_id = "case-1", std::string message_id = "msg-1") {
  WithdrawRequest request;
  request.set_case_id(std::move(case_id));
  request.set_message_id(std::move(message_id));
  return request;
}

absl::Time In(absl::Duration timeout) { return absl::Now() + timeout; }

class WithdrawClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartAdapter(upstream_);
    ASSERT_NE(server_, nullptr);
    channel_ = CreateWithdrawChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     grpc::InsecureChannelCredentials());
  }

  WithdrawClient Client(std::shared_ptr<grpc::CallCredentials> credentials) const {
    return WithdrawClient(channel_, std::move(credentials));
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(WithdrawClientTest, ReturnsOsmsAnswerAndSendsTheTokenOnce) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-ok"}});
  });
  WithdrawRequest request = MakeRequest("case-1", "msg-1");
  request.set_language("en-us");

  const absl::StatusOr<WithdrawResponse> result =
      Client(IamTokenCredentials(kToken)).Withdraw(request, In(absl::Seconds(10)));

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->error_code(), "");
  EXPECT_EQ(result->http_status(), 200);
  EXPECT_EQ(result->request_id(), "req-ok");
  ASSERT_EQ(upstream_.request_count(), 1);
  const testing::RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.target, "/v2/servicerequest/cases/case-1/instant-messages/msg-1/withdraw");
  EXPECT_EQ(sent.Header("X-Auth-Token"), kToken);
  EXPECT_EQ(sent.HeaderCount("X-Auth-Token"), 1);
  EXPECT_EQ(sent.Header("X-Language"), "en-us");
}

TEST_F(WithdrawClientTest, ABusinessErrorComesBackWithTypedDetails) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, testing::kCaseNotFoundBody, {{"X-Request-Id", "req-404"}});
  });

  const absl::StatusOr<WithdrawResponse> result =
      Client(IamTokenCredentials(kToken)).Withdraw(MakeRequest("missing"), In(absl::Seconds(10)));

  ASSERT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_EQ(result.status().message(), "The case does not exist.");
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(result.status());
  EXPECT_TRUE(details.has_details());
  EXPECT_EQ(details.reason(), "CASE_NOT_FOUND");
  EXPECT_EQ(details.domain(), "osm.myhuaweicloud.com");
  EXPECT_EQ(details.upstream_error_code(), "OSM.01010015");
  EXPECT_EQ(details.upstream_error_message(), "The case does not exist.");
  EXPECT_THAT(details.upstream_http_status(), Optional(200));
  EXPECT_EQ(details.request_id(), "req-404");
  EXPECT_EQ(details.retry_delay(), std::nullopt);
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(WithdrawClientTest, ValidationErrorsNameEveryFieldAndSendNothing) {
  const absl::StatusOr<WithdrawResponse> result =
      Client(IamTokenCredentials(kToken))
          .Withdraw(MakeRequest(std::string(40, 'c'), ""), In(absl::Seconds(10)));

  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(result.status());
  EXPECT_EQ(details.reason(), "INVALID_REQUEST");
  EXPECT_EQ(details.domain(), "osm-grpc-adapter");
  EXPECT_THAT(details.field_violations(),
              ElementsAre(FieldsAre("case_id", "must be at most 32 bytes, got 40"),
                          FieldsAre("message_id", "is required")));
  EXPECT_EQ(details.upstream_response(), std::nullopt);
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST_F(WithdrawClientTest, RetryAfterBecomesTheRetryDelay) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(429, R"({"error_code":"APIGW.0308","error_msg":"throttled"})",
                     {{"Retry-After", "3"}, {"X-Request-Id", "req-429"}});
  });

  const absl::StatusOr<WithdrawResponse> result =
      Client(IamTokenCredentials(kToken)).Withdraw(MakeRequest(), In(absl::Seconds(10)));

  ASSERT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted) << result.status();
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(result.status());
  EXPECT_EQ(details.reason(), "THROTTLED");
  EXPECT_EQ(details.upstream_error_code(), "APIGW.0308");
  EXPECT_THAT(details.upstream_http_status(), Optional(429));
  EXPECT_THAT(details.retry_delay(), Optional(absl::Seconds(3)));
  // RESOURCE_EXHAUSTED is not retried by the service config.
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(WithdrawClientTest, WithoutCredentialsTheAdapterAnswersUnauthenticated) {
  const absl::StatusOr<WithdrawResponse> result =
      Client(nullptr).Withdraw(MakeRequest(), In(absl::Seconds(10)));

  ASSERT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
  EXPECT_EQ(WithdrawErrorDetails::FromStatus(result.status()).reason(), "MISSING_AUTH_TOKEN");
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST_F(WithdrawClientTest, AnEmptyTokenSendsNoToken) {
  const absl::StatusOr<WithdrawResponse> result =
      Client(IamTokenCredentials("")).Withdraw(MakeRequest(), In(absl::Seconds(10)));

  ASSERT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
  EXPECT_EQ(WithdrawErrorDetails::FromStatus(result.status()).reason(), "MISSING_AUTH_TOKEN");
}

TEST_F(WithdrawClientTest, PerCallCredentialsReplaceTheClients) {
  const WithdrawClient client = Client(IamTokenCredentials("the-clients-token"));

  ASSERT_TRUE(
      client.Withdraw(MakeRequest(), In(absl::Seconds(10)), IamTokenCredentials(kToken)).ok());
  ASSERT_TRUE(client.Withdraw(MakeRequest(), In(absl::Seconds(10))).ok());

  ASSERT_EQ(upstream_.request_count(), 2);
  EXPECT_EQ(upstream_.requests()[0].Header("X-Auth-Token"), kToken);
  EXPECT_EQ(upstream_.requests()[0].HeaderCount("X-Auth-Token"), 1);
  EXPECT_EQ(upstream_.requests()[1].Header("X-Auth-Token"), "the-clients-token");
}

TEST_F(WithdrawClientTest, TheDeadlineBoundsTheCallAndAbortsTheUpstreamTransfer) {
  upstream_.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  const absl::Time start = absl::Now();

  const absl::StatusOr<WithdrawResponse> result =
      Client(IamTokenCredentials(kToken)).Withdraw(MakeRequest(), In(absl::Milliseconds(500)));

  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(upstream_.WaitForPeerCloses(1, absl::Seconds(10)));
  EXPECT_EQ(upstream_.request_count(), 1);  // DEADLINE_EXCEEDED is not retried
}

// What WithdrawAsync's callbacks delivered, counted. Shared with them, so
// that a duplicate arriving late still has somewhere to go.
struct Deliveries {
  Mutex mu;
  CondVar changed;
  int ok_calls ABSL_GUARDED_BY(mu) = 0;
  int error_calls ABSL_GUARDED_BY(mu) = 0;
  absl::StatusOr<WithdrawResponse> ok_result ABSL_GUARDED_BY(mu);
  absl::StatusOr<WithdrawResponse> error_result ABSL_GUARDED_BY(mu);
};

TEST_F(WithdrawClientTest, AsyncDeliversTheSameResultOnce) {
  testing::AnswerLikeOsm(upstream_, "req-ok", "req-404");
  auto deliveries = std::make_shared<Deliveries>();
  {
    const WithdrawClient client = Client(IamTokenCredentials(kToken));
    client.WithdrawAsync(MakeRequest(), In(absl::Seconds(10)),
                         [deliveries](absl::StatusOr<WithdrawResponse> result) {
                           MutexLock lock(&deliveries->mu);
                           ++deliveries->ok_calls;
                           deliveries->ok_result = std::move(result);
                           deliveries->changed.NotifyAll();
                         });
    client.WithdrawAsync(MakeRequest("missing"), In(absl::Seconds(10)),
                         [deliveries](absl::StatusOr<WithdrawResponse> result) {
                           MutexLock lock(&deliveries->mu);
                           ++deliveries->error_calls;
                           deliveries->error_result = std::move(result);
                           deliveries->changed.NotifyAll();
                         });
    MutexLock lock(&deliveries->mu);
    ASSERT_TRUE(deliveries->changed.WaitUntil(
        &deliveries->mu, absl::ToChronoTime(In(absl::Seconds(10))), [&] {
          deliveries->mu.AssertHeld();
          return deliveries->ok_calls > 0 && deliveries->error_calls > 0;
        }));
  }
  // The client is gone. A second callback for either call would come now:
  // wait for one a while (nothing else can be awaited), then count.
  MutexLock lock(&deliveries->mu);
  deliveries->changed.WaitUntil(&deliveries->mu, absl::ToChronoTime(In(absl::Milliseconds(300))),
                                [&] {
                                  deliveries->mu.AssertHeld();
                                  return deliveries->ok_calls > 1 || deliveries->error_calls > 1;
                                });
  EXPECT_EQ(deliveries->ok_calls, 1);
  EXPECT_EQ(deliveries->error_calls, 1);
  ASSERT_TRUE(deliveries->ok_result.ok()) << deliveries->ok_result.status();
  EXPECT_EQ(deliveries->ok_result->request_id(), "req-ok");
  ASSERT_EQ(deliveries->error_result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(WithdrawErrorDetails::FromStatus(deliveries->error_result.status()).request_id(),
            "req-404");
  EXPECT_EQ(upstream_.request_count(), 2);
}

TEST(IamTokenCredentialsTest, TheDebugStringNeverShowsTheToken) {
  const std::string debug = IamTokenCredentials(kToken)->DebugString();
  EXPECT_THAT(debug, HasSubstr("redacted"));
  EXPECT_THAT(debug, ::testing::Not(HasSubstr(kToken)));
}

}  // namespace
}  // namespace osm::client
