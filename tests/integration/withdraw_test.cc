// The Withdraw path end to end: a generated C++ stub, the real gRPC server
// over TCP, the curl upstream client, and a scripted HTTP upstream, all on
// port 0 of this host.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_server.h"
#include "server/upstream/http_types.h"
#include "tests/support/call_batch.h"
#include "tests/support/in_process_adapter.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using testing::CallBatch;
using testing::TestAdapterConfig;

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::DecodedDetails;
using testing::DecodeDetails;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::RecordedRequest;
using testing::RefusingPort;
using testing::ScriptedUpstream;
using testing::UpstreamExchange;

constexpr char kToken[] = "iam-token-0123456789";

WithdrawRequest MakeRequest(std::string case_id = "case-1", std::string message_id = "msg-1") {
  WithdrawRequest request;
  request.set_case_id(std::move(case_id));
  request.set_message_id(std::move(message_id));
  return request;
}

class WithdrawTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAdapter(upstream_.base_url()); }

  void StartAdapter(const std::string& upstream_url,
                    absl::Duration max_upstream_timeout = absl::Seconds(30)) {
    server_.reset();
    AdapterConfig config = TestAdapterConfig(upstream_url);
    config.max_upstream_timeout = max_upstream_timeout;
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                        grpc::InsecureChannelCredentials()));
  }

  struct Result {
    grpc::Status status;
    WithdrawResponse response;
    std::multimap<std::string, std::string> trailers;
  };

  Result Call(const WithdrawRequest& request, const std::string& token = kToken,
              absl::Duration timeout = absl::Seconds(10),
              const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    if (!token.empty()) context.AddMetadata("x-auth-token", token);
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    Result result;
    result.status = stub_->Withdraw(&context, request, &result.response);
    for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
      result.trailers.emplace(std::string(key.data(), key.size()),
                              std::string(value.data(), value.size()));
    }
    return result;
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterServer> server_;
  std::unique_ptr<MessageService::Stub> stub_;
};

// Every header the adapter may send; anything else is a leak.
const std::set<std::string>& AllowedUpstreamHeaders() {
  static const auto* allowed =
      new std::set<std::string>{"host",         "content-type", "accept",      "user-agent",
                                "x-auth-token", "x-language",   "x-time-zone", "content-length"};
  return *allowed;
}

TEST_F(WithdrawTest, SuccessSendsTheExactRequestAndReturnsTheAnswer) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-abc"}});
  });
  WithdrawRequest request = MakeRequest();
  request.set_language("en-us");
  request.set_time_zone("GMT+8");

  Result result = Call(request);

  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.response.error_code(), "");
  EXPECT_EQ(result.response.error_msg(), "");
  EXPECT_EQ(result.response.http_status(), 200);
  EXPECT_EQ(result.response.request_id(), "req-abc");
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("x-request-id", "req-abc")));

  ASSERT_EQ(upstream_.request_count(), 1);
  const RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/v2/servicerequest/cases/case-1/instant-messages/msg-1/withdraw");
  EXPECT_EQ(sent.version, "HTTP/1.1");
  EXPECT_EQ(sent.body, "");
  EXPECT_EQ(sent.Header("X-Auth-Token"), kToken);
  EXPECT_EQ(sent.Header("X-Language"), "en-us");
  EXPECT_EQ(sent.Header("X-Time-Zone"), "GMT+8");
  EXPECT_EQ(sent.Header("Content-Type"), "application/json");
  EXPECT_EQ(sent.Header("Content-Length"), "0");
  EXPECT_EQ(sent.Header("User-Agent"), "osm-grpc-adapter/" OSM_ADAPTER_VERSION);
  EXPECT_EQ(sent.Header("Host"), absl::StrCat("127.0.0.1:", upstream_.port()));
  for (const auto& [name, value] : sent.headers) {
    EXPECT_EQ(sent.HeaderCount(name), 1) << name;
    EXPECT_TRUE(AllowedUpstreamHeaders().count(absl::AsciiStrToLower(name))) << name;
  }
}

TEST_F(WithdrawTest, OptionalHeadersAreSentOnlyWhenGiven) {
  ASSERT_TRUE(Call(MakeRequest()).status.ok());
  const RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.HeaderCount("X-Language"), 0);
  EXPECT_EQ(sent.HeaderCount("X-Time-Zone"), 0);
  EXPECT_EQ(sent.Header("X-Auth-Token"), kToken);
}

TEST_F(WithdrawTest, OtherCallerMetadataIsNotForwarded) {
  ASSERT_TRUE(Call(MakeRequest(), kToken, absl::Seconds(10),
                   {{"authorization", "Bearer other"},
                    {"cookie", "session=1"},
                    {"x-custom", "value"},
                    {"x-forwarded-for", "10.0.0.1"}})
                  .status.ok());
  const RecordedRequest sent = upstream_.requests()[0];
  for (const auto& [name, value] : sent.headers) {
    EXPECT_TRUE(AllowedUpstreamHeaders().count(absl::AsciiStrToLower(name))) << name;
  }
  EXPECT_EQ(sent.HeaderCount("Authorization"), 0);
  EXPECT_EQ(sent.HeaderCount("Cookie"), 0);
}

TEST_F(WithdrawTest, TracingContextIsForwardedAndNothingElse) {
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_TRUE(Call(MakeRequest(), kToken, absl::Seconds(10),
                   {{"traceparent", traceparent},
                    {"tracestate", "congo=t61rcWkgMzE"},
                    {"x-request-id", "caller-req-7"},
                    {"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"}})
                  .status.ok());
  const RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.Header("traceparent"), traceparent);
  EXPECT_EQ(sent.Header("tracestate"), "congo=t61rcWkgMzE");
  EXPECT_EQ(sent.Header("X-Request-Id"), "caller-req-7");
  EXPECT_EQ(sent.HeaderCount("x-b3-traceid"), 0);
}

TEST_F(WithdrawTest, OversizedTracingValuesAreDropped) {
  ASSERT_TRUE(
      Call(MakeRequest(), kToken, absl::Seconds(10), {{"tracestate", std::string(600, 'a')}})
          .status.ok());
  EXPECT_EQ(upstream_.requests()[0].HeaderCount("tracestate"), 0);
}

TEST_F(WithdrawTest, UpstreamRequestIdComesBackOnErrorsToo) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(503, "", {{"X-Request-Id", "req-503"}});
  });
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("x-request-id", "req-503")));
}

TEST_F(WithdrawTest, PathValuesAreEncodedAsOneSegmentEach) {
  ASSERT_TRUE(Call(MakeRequest("../x", "a/b?c#d%e f")).status.ok());
  EXPECT_EQ(upstream_.requests()[0].target,
            "/v2/servicerequest/cases/..%2Fx/instant-messages/a%2Fb%3Fc%23d%25e%20f/withdraw");
}

TEST_F(WithdrawTest, InvalidRequestNeverReachesTheUpstream) {
  WithdrawRequest request = MakeRequest(std::string(33, 'c'), "");
  request.set_language("en\r\nX-Injected: 1");
  Result result = Call(request);

  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "INVALID_REQUEST");
  ASSERT_EQ(details.bad_requests.size(), 1u);
  std::vector<std::string> fields;
  for (const auto& violation : details.bad_requests[0].field_violations()) {
    fields.push_back(violation.field());
  }
  EXPECT_THAT(fields, ElementsAre("case_id", "message_id", "language"));
  EXPECT_EQ(upstream_.request_count(), 0);
  EXPECT_EQ(upstream_.connections_accepted(), 0);
}

TEST_F(WithdrawTest, MissingTokenIsUnauthenticatedAndNeverReachesTheUpstream) {
  Result result = Call(MakeRequest(), /*token=*/"");
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "MISSING_AUTH_TOKEN");
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST_F(WithdrawTest, BusinessErrorWithHttp200BecomesNotFoundWithDetails) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})",
                     {{"x-request-id", "req-404"}});
  });
  Result result = Call(MakeRequest());

  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(result.status.error_message(), "The case does not exist.");
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("x-request-id", "req-404")));
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_TRUE(details.present);
  EXPECT_EQ(details.status.code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "CASE_NOT_FOUND");
  EXPECT_EQ(details.error_infos[0].domain(), "osm.myhuaweicloud.com");
  EXPECT_THAT(
      details.error_infos[0].metadata(),
      ::testing::UnorderedElementsAre(Pair("errorCode", "OSM.01010015"), Pair("httpStatus", "200"),
                                      Pair("requestId", "req-404")));
  ASSERT_EQ(details.request_infos.size(), 1u);
  EXPECT_EQ(details.request_infos[0].request_id(), "req-404");
  ASSERT_EQ(details.withdraw_responses.size(), 1u);
  EXPECT_EQ(details.withdraw_responses[0].error_code(), "OSM.01010015");
  EXPECT_EQ(details.withdraw_responses[0].http_status(), 200);
  EXPECT_TRUE(details.retry_infos.empty());
  EXPECT_TRUE(details.other_type_urls.empty());
}

TEST_F(WithdrawTest, GatewayAuthenticationErrorIsUnauthenticated) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(
        401,
        R"({"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"gw-1"})");
  });
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "IAM_AUTHENTICATION_FAILED");
  EXPECT_EQ(details.error_infos[0].metadata().at("requestId"), "gw-1");
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("x-request-id", "gw-1")));
}

TEST_F(WithdrawTest, ThrottlingCarriesRetryInfoAndPushback) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(429, R"({"error_code":"APIGW.0308","error_msg":"throttled"})",
                     {{"Retry-After", "7"}});
  });
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), 7);
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("grpc-retry-pushback-ms", "7000")));
}

TEST_F(WithdrawTest, HtmlFromALoadBalancerIsUnavailable) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(502, "<html><body><h1>502 Bad Gateway</h1></body></html>",
                     {{"Content-Type", "text/html"}});
  });
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("HTTP 502"));
  EXPECT_THAT(result.status.error_message(), HasSubstr("502 Bad Gateway"));
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_HTTP_ERROR");
}

TEST_F(WithdrawTest, ConnectionRefusedIsUnavailable) {
  // Bound but not listening for the whole test: no parallel test can take
  // the port and answer.
  const RefusingPort closed;
  StartAdapter(absl::StrCat("http://127.0.0.1:", closed.port()));
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_UNAVAILABLE");
  EXPECT_EQ(details.error_infos[0].domain(), "osm-grpc-adapter");
  EXPECT_TRUE(details.withdraw_responses.empty());
}

TEST_F(WithdrawTest, UnresolvableHostIsUnavailable) {
  // A first label longer than DNS allows (63 octets): the resolver library
  // refuses the name without asking any server, so the lookup fails at once
  // whatever the network (a well-formed name that does not exist can take an
  // unreachable resolver 2 x 5 s, beyond the call's deadline).
  StartAdapter(absl::StrCat("http://", std::string(64, 'x'), ".invalid"));
  const absl::Time start = absl::Now();
  Result result = Call(MakeRequest());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("resolve"));
}

TEST_F(WithdrawTest, ResetBeforeTheAnswerIsUnavailable) {
  upstream_.SetHandler([](UpstreamExchange& exchange) { exchange.Reset(); });
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(WithdrawTest, SlowUpstreamHitsTheCallersDeadlineAndTheTransferIsAborted) {
  upstream_.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  const absl::Time start = absl::Now();
  Result result = Call(MakeRequest(), kToken, absl::Milliseconds(300));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The upstream saw its connection closed soon after the 300 ms, long
  // before its own 30 s.
  EXPECT_TRUE(upstream_.WaitForPeerCloses(1, absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(WithdrawTest, MaxUpstreamTimeoutBoundsALongDeadline) {
  StartAdapter(upstream_.base_url(), /*max_upstream_timeout=*/absl::Milliseconds(200));
  upstream_.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  Result result = Call(MakeRequest(), kToken, absl::Seconds(20));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_TIMEOUT");
  EXPECT_TRUE(upstream_.WaitForPeerCloses(1));
}

TEST_F(WithdrawTest, ClientCancellationAbortsTheUpstreamTransfer) {
  upstream_.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  CallBatch call(stub_.get(), 1, absl::Seconds(30), kToken);
  ASSERT_TRUE(upstream_.WaitForRequests(1));
  call.Cancel(0);
  EXPECT_TRUE(upstream_.WaitForPeerCloses(1, absl::Seconds(10)));
  ASSERT_EQ(call.WaitForAll(absl::Seconds(10)), 0);
  EXPECT_EQ(call.Statuses()[0].error_code(), grpc::StatusCode::CANCELLED);
}

// The upstream announces more than the adapter reads and sends the first
// `sent` bytes of the body (more than the limit), then holds the rest back
// until the connection closes or 5 s pass. An adapter that cuts the body off
// at its limit closes the connection at once, while the rest is held back
// (a peer close the upstream counts); one that reads everything first waits.
void HoldTheRestBack(UpstreamExchange& exchange, std::size_t announced, std::size_t sent) {
  exchange.Write(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", announced, "\r\n\r\n",
                              std::string(sent, 'x')));
  if (!exchange.WaitForPeerClose(absl::Seconds(5))) {
    exchange.Write(std::string(announced - sent, 'x'));
  }
}

TEST_F(WithdrawTest, OversizedResponseIsCutOff) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    HoldTheRestBack(exchange, 2 << 20, kMaxResponseBodyBytes + (64 << 10));
  });
  const absl::Time start = absl::Now();
  Result result = Call(MakeRequest());
  // Cut off: the adapter closed the connection without waiting for the rest.
  EXPECT_TRUE(upstream_.WaitForPeerCloses(1, absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNKNOWN);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_RESPONSE_TOO_LARGE");
  EXPECT_LE(result.status.error_message().size(), 1024u);
}

TEST_F(WithdrawTest, EndlessChunkedResponseIsCutOff) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = absl::StrCat("10000\r\n", std::string(0x10000, 'y'), "\r\n");
    // One chunk more than the limit, then a pause: the adapter must close the
    // connection now, without waiting for the next chunk.
    int sent = 0;
    while (static_cast<std::size_t>(sent) * 0x10000 <= kMaxResponseBodyBytes &&
           exchange.Write(chunk)) {
      ++sent;
    }
    if (exchange.WaitForPeerClose(absl::Seconds(5))) return;
    // At most 64 MiB in all.
    for (; sent < 1024 && exchange.Write(chunk); ++sent) {
    }
    exchange.Close();
  });
  const absl::Time start = absl::Now();
  Result result = Call(MakeRequest());
  EXPECT_TRUE(upstream_.WaitForPeerCloses(1, absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNKNOWN);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_RESPONSE_TOO_LARGE");
}

TEST_F(WithdrawTest, RedirectsAreNotFollowed) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(302, "", {{"Location", "http://127.0.0.2:1/steal"}});
  });
  Result result = Call(MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INTERNAL);
  DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_REDIRECT");
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(WithdrawTest, ConnectionsAreReused) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Call(MakeRequest()).status.ok());
  EXPECT_EQ(upstream_.request_count(), 5);
  EXPECT_EQ(upstream_.connections_accepted(), 1);
}

}  // namespace
}  // namespace osm
