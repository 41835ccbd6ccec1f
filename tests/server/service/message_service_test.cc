// The Withdraw reactor through a fake transport: gRPC's in-process channel
// (no sockets) in front, FakeUpstreamClient behind, so each path of the
// reactor is driven exactly: completion inside Start(), completion later,
// cancellation, overload, signing failure, trailers and details.

#include "server/service/message_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/hand_off.h"
#include "server/base/mutex.h"
#include "tests/support/fake_upstream_client.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::DecodedDetails;
using testing::DecodeDetails;
using testing::FakeUpstreamClient;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "reactor-test-token-0c4e";

HttpResponse Answer(int status, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse http;
  http.status = status;
  http.body = std::move(body);
  http.headers = std::move(headers);
  return http;
}

// A credentials provider that has none.
class NoCredentials final : public CredentialsProvider {
 public:
  absl::StatusOr<std::shared_ptr<const AkSkCredentials>> Get(absl::Time) override {
    return absl::UnavailableError("the credentials file expired");
  }
  std::string Describe() const override { return "test"; }
};

// One call in flight, whose outcome the test awaits.
class PendingCall {
 public:
  PendingCall(MessageService::Stub& stub, const std::string& token = kToken) {
    request_.set_case_id("case-1");
    request_.set_message_id("msg-1");
    if (!token.empty()) context_.AddMetadata("x-auth-token", token);
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    // gRPC runs the callback on its own thread, after the call started: an
    // ordering inside its core, which ThreadSanitizer cannot see.
    HandOffSent(this);
    stub.async()->Withdraw(&context_, &request_, &response_, [this](grpc::Status status) {
      HandOffReceived(this);
      MutexLock lock(&mu_);
      status_ = std::move(status);
      ++callbacks_;
      done_.NotifyAll();
    });
  }
  ~PendingCall() {
    context_.TryCancel();
    Wait();
  }
  grpc::Status Wait() {
    MutexLock lock(&mu_);
    done_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + absl::Seconds(10)), [&] {
      mu_.AssertHeld();
      return callbacks_ > 0;
    });
    return status_;
  }
  void Cancel() { context_.TryCancel(); }
  const WithdrawResponse& response() const { return response_; }
  std::string Trailer(const std::string& key) const {
    auto it = context_.GetServerTrailingMetadata().find(key);
    return it == context_.GetServerTrailingMetadata().end()
               ? ""
               : std::string(it->second.data(), it->second.size());
  }

 private:
  grpc::ClientContext context_;
  WithdrawRequest request_;
  WithdrawResponse response_;
  Mutex mu_;
  CondVar done_;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  int callbacks_ ABSL_GUARDED_BY(mu_) = 0;
};

class OsmMessageServiceTest : public ::testing::Test {
 protected:
  void Start(OsmMessageService::Options options = {}) {
    options.pipeline.upstream = UpstreamUrl{"https", "osm.example.com", ""};
    service_ = std::make_unique<OsmMessageService>(&upstream_, std::move(options));
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = MessageService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  FakeUpstreamClient upstream_;
  std::unique_ptr<OsmMessageService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MessageService::Stub> stub_;
};

TEST_F(OsmMessageServiceTest, AnAnswerCompletedInsideStartFinishesTheCall) {
  upstream_.CompleteInsideStart(
      Answer(200, R"({"error_code":"","error_msg":""})", {{"x-request-id", "r-inside"}}));
  Start();
  PendingCall call(*stub_);
  const grpc::Status status = call.Wait();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(call.response().request_id(), "r-inside");
  EXPECT_EQ(call.Trailer("x-request-id"), "r-inside");
  ASSERT_EQ(upstream_.requests().size(), 1u);
  const HttpRequest http = upstream_.requests()[0];
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.url,
            "https://osm.example.com/v2/servicerequest/cases/case-1/instant-messages/msg-1/"
            "withdraw");
  EXPECT_THAT(http.headers, ::testing::Contains(absl::StrCat("X-Auth-Token: ", kToken)));
}

TEST_F(OsmMessageServiceTest, ALaterAnswerWithAnOsmErrorCarriesTheDetailsAndTrailers) {
  Start();
  PendingCall call(*stub_);
  ASSERT_TRUE(upstream_.WaitForStarts(1));
  ASSERT_TRUE(upstream_.Complete(
      0, Answer(200, R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})",
                {{"x-request-id", "r-later"}, {"retry-after", "3"}})));
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "The case does not exist.");
  EXPECT_EQ(call.Trailer("x-request-id"), "r-later");
  EXPECT_EQ(call.Trailer("grpc-retry-pushback-ms"), "3000");
  const DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "CASE_NOT_FOUND");
  ASSERT_EQ(details.request_infos.size(), 1u);
  EXPECT_EQ(details.request_infos[0].request_id(), "r-later");
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), 3);
  ASSERT_EQ(details.withdraw_responses.size(), 1u);
  EXPECT_EQ(details.withdraw_responses[0].error_code(), "OSM.01010015");
}

TEST_F(OsmMessageServiceTest, TheCallersTokenIsRedactedWhereOsmEchoesIt) {
  Start();
  PendingCall call(*stub_);
  ASSERT_TRUE(upstream_.WaitForStarts(1));
  ASSERT_TRUE(upstream_.Complete(
      0,
      Answer(401,
             absl::StrCat(R"({"error_code":"APIGW.0301","error_msg":"bad token )", kToken, R"("})"),
             {{"x-request-id", absl::StrCat("id-", kToken)}})));
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), Not(HasSubstr(kToken)));
  EXPECT_THAT(status.error_details(), Not(HasSubstr(kToken)));
  EXPECT_THAT(call.Trailer("x-request-id"), Not(HasSubstr(kToken)));
  EXPECT_EQ(call.Trailer("x-request-id"), "id-[REDACTED]");
}

TEST_F(OsmMessageServiceTest, ACancelledCallCancelsItsTransfer) {
  Start();
  PendingCall call(*stub_);
  ASSERT_TRUE(upstream_.WaitForStarts(1));
  call.Cancel();
  EXPECT_EQ(call.Wait().error_code(), grpc::StatusCode::CANCELLED);
  // OnCancel asked the transport to end the transfer, which the fake does
  // inside Cancel(); nothing was left running.
  ASSERT_TRUE(upstream_.WaitForCancels(1));
  EXPECT_THAT(upstream_.cancels(), ::testing::ElementsAre(upstream_.id(0)));
  EXPECT_FALSE(upstream_.Complete(0, Answer(200, "")));  // already completed: by the cancel
}

// An answer and a cancellation at the same moment, many times: the call
// ends once, with one of the two outcomes.
TEST_F(OsmMessageServiceTest, AnAnswerRacingACancellationFinishesTheCallOnce) {
  Start();
  constexpr int kRounds = 200;
  for (int i = 0; i < kRounds; ++i) {
    PendingCall call(*stub_);
    ASSERT_TRUE(upstream_.WaitForStarts(static_cast<std::size_t>(i) + 1));
    std::thread answer([&] {
      upstream_.Complete(static_cast<std::size_t>(i), Answer(200, R"({"error_code":""})"));
    });
    call.Cancel();
    answer.join();
    const grpc::StatusCode code = call.Wait().error_code();
    EXPECT_TRUE(code == grpc::StatusCode::OK || code == grpc::StatusCode::CANCELLED) << code;
  }
}

TEST_F(OsmMessageServiceTest, BeyondMaxInFlightACallIsRefusedAtOnceWithARetryDelay) {
  OsmMessageService::Options options;
  options.max_in_flight = 1;
  options.overload_retry_delay = absl::Milliseconds(1500);
  Start(std::move(options));
  PendingCall first(*stub_);
  ASSERT_TRUE(upstream_.WaitForStarts(1));
  PendingCall second(*stub_);
  const grpc::Status refused = second.Wait();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(second.Trailer("grpc-retry-pushback-ms"), "1500");
  const DecodedDetails details = DecodeDetails(refused);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "TOO_MANY_CALLS_IN_FLIGHT");
  EXPECT_EQ(details.error_infos[0].metadata().at("maxInFlight"), "1");
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().nanos(), 500'000'000);
  EXPECT_EQ(upstream_.requests().size(), 1u);  // the refused call sent nothing
  // Once the first is done, a call is admitted again.
  ASSERT_TRUE(upstream_.Complete(0, Answer(200, "")));
  EXPECT_TRUE(first.Wait().ok());
  // Its slot is freed in OnDone, which gRPC may run just after the caller
  // has the answer: a call is admitted again within moments.
  upstream_.CompleteInsideStart(Answer(200, ""));
  grpc::Status third;
  for (int attempt = 0; attempt < 250; ++attempt) {
    PendingCall call(*stub_);
    third = call.Wait();
    if (third.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    absl::SleepFor(absl::Milliseconds(20));  // OnDone has nothing to await
  }
  EXPECT_TRUE(third.ok()) << third.error_code() << " " << third.error_message();
}

TEST_F(OsmMessageServiceTest, ASigningFailureSendsNothing) {
  NoCredentials credentials;
  OsmMessageService::Options options;
  options.pipeline.credentials = &credentials;
  Start(std::move(options));
  PendingCall call(*stub_, /*token=*/"");
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  const DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "CREDENTIALS_UNAVAILABLE");
  EXPECT_TRUE(upstream_.requests().empty());
}

TEST_F(OsmMessageServiceTest, AnInvalidRequestSendsNothing) {
  Start();
  PendingCall call(*stub_, /*token=*/"");
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(upstream_.requests().empty());
}

TEST_F(OsmMessageServiceTest, ATransportFailureIsMappedWithItsReason) {
  upstream_.CompleteInsideStart(absl::UnavailableError("connection refused"));
  Start();
  PendingCall call(*stub_);
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  const DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_UNAVAILABLE");
}

}  // namespace
}  // namespace osm
