#include "server/service/call_pipeline.h"

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::WithdrawRequest;
using ::testing::Contains;
using testing::DecodeDetails;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1'750'000'000);

WithdrawRequest Request() {
  WithdrawRequest request;
  request.set_case_id("case-1");
  request.set_message_id("msg-1");
  return request;
}

PipelineOptions Options() {
  PipelineOptions options;
  options.upstream = UpstreamUrl{"https", "osm.example.com", "/p"};
  options.max_upstream_timeout = absl::Seconds(30);
  return options;
}

std::string ReasonOf(const grpc::Status& status) {
  const testing::DecodedDetails details = DecodeDetails(status);
  return details.error_infos.empty() ? "" : details.error_infos[0].reason();
}

TEST(ReadCallMetadataTest, TokensAndTheTracingContextInTheirOrder) {
  const std::multimap<grpc::string_ref, grpc::string_ref> metadata = {
      {"x-auth-token", "t1"}, {"x-request-id", "rid"}, {"tracestate", "ts"},
      {"traceparent", "tp"},  {"x-auth-token", "t2"},  {"other", "o"},
  };
  const CallMetadata read = ReadCallMetadata(metadata);
  EXPECT_THAT(read.tokens, ElementsAre("t1", "t2"));
  using Pair = std::pair<absl::string_view, absl::string_view>;
  EXPECT_THAT(read.trace, ElementsAre(Pair("traceparent", "tp"), Pair("tracestate", "ts"),
                                      Pair("X-Request-Id", "rid")));
}

TEST(PrepareUpstreamRequestTest, PassThroughSendsTheTokenAndKeepsItSecret) {
  CallMetadata metadata;
  metadata.tokens = {"caller-token"};
  metadata.trace = {{"traceparent", "00-abc-01"},
                    {"tracestate", std::string(513, 's')},  // too long: dropped
                    {"X-Request-Id", "bad\nvalue"}};        // control character: dropped
  const PreparedCall prepared =
      PrepareUpstreamRequest(Request(), metadata, kNow, kNow + absl::Seconds(5), Options());
  ASSERT_TRUE(prepared.refusal.ok()) << prepared.refusal.error_message();
  EXPECT_EQ(prepared.http.url,
            "https://osm.example.com/p/v2/servicerequest/cases/case-1/instant-messages/msg-1/"
            "withdraw");
  EXPECT_THAT(prepared.http.headers, Contains("X-Auth-Token: caller-token"));
  EXPECT_THAT(prepared.http.headers, Contains("traceparent: 00-abc-01"));
  for (const std::string& header : prepared.http.headers) {
    EXPECT_THAT(header, Not(::testing::StartsWith("tracestate")));
    EXPECT_THAT(header, Not(::testing::StartsWith("X-Request-Id")));
  }
  EXPECT_EQ(prepared.http.deadline, kNow + absl::Seconds(5));
  EXPECT_TRUE(prepared.secrets.AppearIn("echo caller-token"));
}

TEST(PrepareUpstreamRequestTest, TheDeadlineIsBoundedByMaxUpstreamTimeout) {
  CallMetadata metadata;
  metadata.tokens = {"t"};
  const PreparedCall prepared =
      PrepareUpstreamRequest(Request(), metadata, kNow, kNow + absl::Hours(1), Options());
  ASSERT_TRUE(prepared.refusal.ok());
  EXPECT_EQ(prepared.http.deadline, kNow + absl::Seconds(30));
}

TEST(PrepareUpstreamRequestTest, ADeadlineAlreadyPassedIsRefused) {
  CallMetadata metadata;
  metadata.tokens = {"t"};
  for (absl::Duration before : {absl::ZeroDuration(), absl::Milliseconds(1)}) {
    const PreparedCall prepared =
        PrepareUpstreamRequest(Request(), metadata, kNow, kNow - before, Options());
    EXPECT_EQ(prepared.refusal.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_EQ(ReasonOf(prepared.refusal), "DEADLINE_EXCEEDED");
    EXPECT_THAT(prepared.http.url, IsEmpty());
  }
}

TEST(PrepareUpstreamRequestTest, AnInvalidRequestIsRefusedBeforeTheDeadlineIsLookedAt) {
  CallMetadata metadata;
  metadata.tokens = {"t"};
  WithdrawRequest request = Request();
  request.set_case_id("");
  const PreparedCall prepared =
      PrepareUpstreamRequest(request, metadata, kNow, kNow - absl::Seconds(1), Options());
  EXPECT_EQ(prepared.refusal.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(prepared.refusal), "INVALID_REQUEST");
}

TEST(PrepareUpstreamRequestTest, SigningIgnoresTheCallersTokenAndKeepsEverySecret) {
  AkSkCredentials credentials;
  credentials.access_key = "AK";
  credentials.secret_key = "SK";
  credentials.security_token = "security-token-9";
  StaticCredentialsProvider provider(credentials, "test");
  PipelineOptions options = Options();
  options.credentials = &provider;
  CallMetadata metadata;
  metadata.tokens = {"caller-token", "second"};  // not even validated when signing
  const PreparedCall prepared =
      PrepareUpstreamRequest(Request(), metadata, kNow, kNow + absl::Seconds(5), options);
  ASSERT_TRUE(prepared.refusal.ok()) << prepared.refusal.error_message();
  std::string authorization;
  for (const std::string& header : prepared.http.headers) {
    EXPECT_THAT(header, Not(::testing::HasSubstr("caller-token")));
    if (header.rfind("Authorization: ", 0) == 0) authorization = header;
  }
  EXPECT_THAT(prepared.http.headers, Contains("Host: osm.example.com"));
  EXPECT_THAT(prepared.http.headers, Contains("X-Security-Token: security-token-9"));
  ASSERT_FALSE(authorization.empty());
  const std::string signature = authorization.substr(authorization.rfind('=') + 1);
  EXPECT_TRUE(prepared.secrets.AppearIn(signature));
  EXPECT_TRUE(prepared.secrets.AppearIn("security-token-9"));
  EXPECT_FALSE(prepared.secrets.AppearIn("caller-token"));
}

}  // namespace
}  // namespace osm
