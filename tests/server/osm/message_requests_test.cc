#include "server/osm/message_requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace osm {
namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the request messages
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

const UpstreamUrl kUpstream{"https", "osm.example.com:8443", "/prefix"};
const absl::Time kDeadline = absl::FromUnixSeconds(1'800'000'000);
constexpr char kBase[] = "https://osm.example.com:8443/prefix";

std::vector<std::string> CommonHeaders(const std::vector<std::string>& extra) {
  std::vector<std::string> headers = {"Content-Type: application/json", "Accept: application/json",
                                      std::string("User-Agent: ") + std::string(UserAgent()),
                                      "X-Auth-Token: tok"};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return headers;
}

TEST(EncodeQueryTest, KeepsCommasAndEncodesTheRest) {
  EXPECT_EQ(EncodeQuery({}), "");
  EXPECT_EQ(EncodeQuery({{"case_ids", "a,b,c"}}), "case_ids=a,b,c");
  EXPECT_EQ(EncodeQuery({{"create_time", "2024-01-02T03:04:05Z"}, {"type", "1"}}),
            "create_time=2024-01-02T03%3A04%3A05Z&type=1");
  EXPECT_EQ(EncodeQuery({{"g", "a&b=c d+%"}}), "g=a%26b%3Dc%20d%2B%25");
  EXPECT_EQ(EncodeQuery({{"x", "\xC3\xA9"}}), "x=%C3%A9");
  // A literal "%2C" is encoded, not mistaken for a comma.
  EXPECT_EQ(EncodeQuery({{"x", "%2C"}}), "x=%252C");
}

TEST(SiteHeaderValueTest, Table) {
  EXPECT_EQ(SiteHeaderValue(SITE_UNSPECIFIED), "");
  EXPECT_EQ(SiteHeaderValue(SITE_CHINA), "0");
  EXPECT_EQ(SiteHeaderValue(SITE_INTERNATIONAL), "1");
}

TEST(SendMessageCallTest, PostsTheMessageBody) {
  SendMessageRequest request;
  request.set_case_id("C 1/2");
  request.set_content("hello \"world\"\n\xE4\xBD\xA0");
  request.add_accessory_ids("att-1");
  request.add_accessory_ids("att-2");
  request.set_group_id("g-1");
  request.set_language("en-us");
  request.set_site(SITE_INTERNATIONAL);
  const HttpRequest http = BuildHttpRequest(kUpstream, SendMessageCall(request), "tok", kDeadline);
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.url, std::string(kBase) + "/v2/servicerequest/cases/C%201%2F2/message");
  EXPECT_EQ(http.headers, CommonHeaders({"X-Language: en-us", "X-Site: 1"}));
  EXPECT_EQ(http.body, R"({"message":{"content":"hello \"world\"\n)"
                       "\xE4\xBD\xA0"
                       R"(","accessory_ids":["att-1","att-2"]},"group_id":"g-1"})");
  EXPECT_EQ(http.deadline, kDeadline);
  EXPECT_FALSE(http.idempotent);
}

TEST(SendMessageCallTest, LeavesOutWhatIsNotSet) {
  SendMessageRequest request;
  request.set_case_id("c1");
  request.set_content("hi");
  const HttpRequest http = BuildHttpRequest(kUpstream, SendMessageCall(request), "tok", kDeadline);
  EXPECT_EQ(http.body, R"({"message":{"content":"hi"}})");
  EXPECT_EQ(http.headers, CommonHeaders({}));
}

TEST(ListMessagesCallTest, QueryInDocumentedOrder) {
  ListMessagesRequest request;
  request.set_case_id("c1");
  EXPECT_EQ(BuildHttpRequest(kUpstream, ListMessagesCall(request), "tok", kDeadline).url,
            std::string(kBase) + "/v2/servicerequest/cases/c1/messages");
  request.set_group_id("g 1");
  request.set_offset(20);
  request.set_limit(10);
  request.set_keep_rich_text(true);
  request.set_time_zone("GMT+8");
  request.set_site(SITE_CHINA);
  const HttpRequest http = BuildHttpRequest(kUpstream, ListMessagesCall(request), "tok", kDeadline);
  EXPECT_EQ(http.method, "GET");
  EXPECT_EQ(http.url, std::string(kBase) +
                          "/v2/servicerequest/cases/c1/messages?group_id=g%201&offset=20&limit=10"
                          "&trim_osm_rich_text_label=false");
  EXPECT_EQ(http.headers, CommonHeaders({"X-Time-Zone: GMT+8", "X-Site: 0"}));
  EXPECT_THAT(http.body, IsEmpty());
}

TEST(ListMoreMessagesCallTest, CursorAndLimitAlwaysSent) {
  ListMoreMessagesRequest request;
  request.set_case_id("c1");
  request.set_create_time("2024-01-02 03:04:05");
  request.set_type(0);
  request.set_limit(5);
  EXPECT_EQ(
      BuildHttpRequest(kUpstream, ListMoreMessagesCall(request), "tok", kDeadline).url,
      std::string(kBase) +
          "/v2/servicerequest/cases/c1/instant-messages/more?create_time=2024-01-02%2003%3A04%3A05"
          "&type=0&limit=5");
}

TEST(PollNewMessagesCallTest, CaseIdsCommaJoined) {
  PollNewMessagesRequest request;
  request.add_case_ids("c1");
  request.add_case_ids("c/2");
  request.set_last_message_time_id("1700000000000");
  request.set_group_id("g");
  const HttpRequest http =
      BuildHttpRequest(kUpstream, PollNewMessagesCall(request), "tok", kDeadline);
  EXPECT_EQ(http.method, "GET");
  EXPECT_EQ(http.url, std::string(kBase) +
                          "/v2/servicerequest/cases/instant-messages?case_ids=c1,c%2F2"
                          "&last_message_time_id=1700000000000&group_id=g");
}

TEST(CountUnreadMessagesCallTest, Path) {
  CountUnreadMessagesRequest request;
  request.add_case_ids("c1");
  request.add_case_ids("c2");
  EXPECT_EQ(BuildHttpRequest(kUpstream, CountUnreadMessagesCall(request), "tok", kDeadline).url,
            std::string(kBase) + "/v2/servicerequest/cases/instant-messages/unread?case_ids=c1,c2");
}

TEST(MarkMessagesReadCallTest, PostsGroupIdOrEmptyObject) {
  MarkMessagesReadRequest request;
  request.set_case_id("c1");
  HttpRequest http = BuildHttpRequest(kUpstream, MarkMessagesReadCall(request), "", kDeadline);
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.url, std::string(kBase) + "/v2/servicerequest/cases/c1/instant-messages/unread");
  EXPECT_EQ(http.body, "{}");
  // No token: no X-Auth-Token.
  EXPECT_THAT(http.headers,
              ElementsAre("Content-Type: application/json", "Accept: application/json",
                          std::string("User-Agent: ") + std::string(UserAgent())));
  request.set_group_id("g");
  http = BuildHttpRequest(kUpstream, MarkMessagesReadCall(request), "tok", kDeadline);
  EXPECT_EQ(http.body, R"({"group_id":"g"})");
}

TEST(ListCaseMessagesCallTest, ShowCaseDetailPath) {
  ListCaseMessagesRequest request;
  request.set_case_id("C2024..x");
  request.set_keep_rich_text(true);
  EXPECT_EQ(
      BuildHttpRequest(kUpstream, ListCaseMessagesCall(request), "tok", kDeadline).url,
      std::string(kBase) + "/v2/servicerequest/cases/C2024..x?trim_osm_rich_text_label=false");
}

TEST(BuildSignedHttpRequestTest, SignsQueryBodyAndSite) {
  PollNewMessagesRequest request;
  request.add_case_ids("c1");
  request.add_case_ids("c2");
  request.set_language("en-us");
  request.set_site(SITE_CHINA);
  const AkSkCredentials credentials{"AKEXAMPLE", "secret-key", "", "domain-1"};
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  absl::StatusOr<SignedHttpRequest> signed_request =
      BuildSignedHttpRequest(kUpstream, PollNewMessagesCall(request), credentials, now, kDeadline);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status();
  const std::vector<std::string>& headers = signed_request->http.headers;
  EXPECT_THAT(headers, ::testing::Not(::testing::Contains(::testing::StartsWith("X-Auth-Token"))));
  EXPECT_THAT(headers, ::testing::Contains("Host: osm.example.com:8443"));
  EXPECT_THAT(headers, ::testing::Contains("X-Sdk-Date: 20231114T221320Z"));
  EXPECT_THAT(headers, ::testing::Contains("X-Domain-Id: domain-1"));
  // The signature the same canonical request gives, computed independently
  // of the builder.
  SignableRequest expected;
  expected.method = "GET";
  expected.path = "/prefix/v2/servicerequest/cases/instant-messages";
  expected.query = {{"case_ids", "c1,c2"}};
  expected.headers = {{"Host", "osm.example.com:8443"},
                      {"X-Sdk-Date", "20231114T221320Z"},
                      {"X-Domain-Id", "domain-1"},
                      {"X-Language", "en-us"},
                      {"X-Site", "0"}};
  absl::StatusOr<RequestSignature> signature =
      SignRequest(expected, credentials.access_key, credentials.secret_key);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signed_request->signature, signature->signature);
  EXPECT_EQ(headers.back(), "Authorization: " + signature->authorization);
  EXPECT_THAT(signature->authorization,
              ::testing::HasSubstr("SignedHeaders=host;x-domain-id;x-language;x-sdk-date;x-site,"));
}

}  // namespace
}  // namespace osm
