#include "server/osm/upstream_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::WithdrawRequest;
using std::string_literals::operator""s;

TEST(EncodePathSegmentTest, Table) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"ABCXYZabcxyz0189-_.~", "ABCXYZabcxyz0189-_.~"},
      {".", "."},
      {"..", ".."},
      {"/", "%2F"},
      {"../x", "..%2Fx"},
      {"a/b", "a%2Fb"},
      {"a b", "a%20b"},
      {" ", "%20"},
      {"?#%", "%3F%23%25"},
      {"%2F", "%252F"},
      {"+&=;:@,!$'()*", "%2B%26%3D%3B%3A%40%2C%21%24%27%28%29%2A"},
      {"\\", "%5C"},
      {"\xC3\xA9", "%C3%A9"},                // é
      {"\xE2\x82\xAC", "%E2%82%AC"},         // €
      {"\xF0\x9F\x98\x80", "%F0%9F%98%80"},  // 😀
      {"\xff\xfe", "%FF%FE"},
      {"\x7f", "%7F"},
      {"\r\n", "%0D%0A"},
      {"a\0b"s, "a%00b"},
      {"\0"s, "%00"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(EncodePathSegment(c.in), c.out);
  }
}

TEST(EncodePathSegmentTest, EveryByte) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int i = 0; i < 256; ++i) {
    const char byte = static_cast<char>(i);
    SCOPED_TRACE(i);
    const std::string encoded = EncodePathSegment(std::string(1, byte));
    if (unreserved.find(byte) != std::string::npos) {
      EXPECT_EQ(encoded, std::string(1, byte));
    } else {
      const std::string expected = {'%', kHex[i >> 4], kHex[i & 0x0F]};
      EXPECT_EQ(encoded, expected);
    }
  }
}

TEST(WithdrawPathTest, Table) {
  struct Case {
    std::string case_id;
    std::string message_id;
    std::string path;
  };
  const std::vector<Case> cases = {
      {"c1", "m1", "/v2/servicerequest/cases/c1/instant-messages/m1/withdraw"},
      {"a/b", "../x", "/v2/servicerequest/cases/a%2Fb/instant-messages/..%2Fx/withdraw"},
      {"c?d", "m#1", "/v2/servicerequest/cases/c%3Fd/instant-messages/m%231/withdraw"},
      {"\xC3\xA9", "a b", "/v2/servicerequest/cases/%C3%A9/instant-messages/a%20b/withdraw"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.case_id + " | " + c.message_id);
    EXPECT_EQ(WithdrawPath(c.case_id, c.message_id), c.path);
  }
}

TEST(UserAgentTest, NamesAdapterAndVersion) {
  EXPECT_EQ(std::string(UserAgent()), "osm-grpc-adapter/" OSM_ADAPTER_VERSION);
  EXPECT_NE(std::string(OSM_ADAPTER_VERSION), "");
}

TEST(BuildWithdrawHttpRequestTest, Table) {
  const std::string user_agent = "User-Agent: osm-grpc-adapter/" OSM_ADAPTER_VERSION;
  struct Case {
    std::string name;
    UpstreamUrl upstream;
    std::string case_id;
    std::string message_id;
    std::string language;
    std::string time_zone;
    std::string token;
    absl::Time deadline;
    std::string url;
    std::vector<std::string> headers;
  };
  const std::vector<Case> cases = {
      {"everything",
       {"https", "osm.ap-southeast-3.myhuaweicloud.com", ""},
       "case-1",
       "msg-1",
       "en-us",
       "GMT+8",
       "tok-abc",
       absl::FromUnixSeconds(1'700'000'000),
       "https://osm.ap-southeast-3.myhuaweicloud.com/v2/servicerequest/cases/case-1/"
       "instant-messages/msg-1/withdraw",
       {"Content-Type: application/json", "Accept: application/json", user_agent,
        "X-Auth-Token: tok-abc", "X-Language: en-us", "X-Time-Zone: GMT+8"}},
      {"no token",
       {"https", "osm.example.com", ""},
       "c",
       "m",
       "en-us",
       "GMT+8",
       "",
       absl::FromUnixSeconds(5),
       "https://osm.example.com/v2/servicerequest/cases/c/instant-messages/m/withdraw",
       {"Content-Type: application/json", "Accept: application/json", user_agent,
        "X-Language: en-us", "X-Time-Zone: GMT+8"}},
      {"token only",
       {"http", "127.0.0.1:8080", "/prefix"},
       "a/b",
       "../x",
       "",
       "",
       "t",
       absl::InfiniteFuture(),
       "http://127.0.0.1:8080/prefix/v2/servicerequest/cases/a%2Fb/instant-messages/..%2Fx/"
       "withdraw",
       {"Content-Type: application/json", "Accept: application/json", user_agent,
        "X-Auth-Token: t"}},
      {"time zone without language",
       {"https", "h", ""},
       "c",
       "m",
       "",
       "GMT-3",
       "t",
       absl::UnixEpoch(),
       "https://h/v2/servicerequest/cases/c/instant-messages/m/withdraw",
       {"Content-Type: application/json", "Accept: application/json", user_agent, "X-Auth-Token: t",
        "X-Time-Zone: GMT-3"}},
      {"language without time zone, no token",
       {"https", "h", ""},
       "c",
       "m",
       "zh-cn",
       "",
       "",
       absl::FromUnixMillis(1234567),
       "https://h/v2/servicerequest/cases/c/instant-messages/m/withdraw",
       {"Content-Type: application/json", "Accept: application/json", user_agent,
        "X-Language: zh-cn"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WithdrawRequest request;
    request.set_case_id(c.case_id);
    request.set_message_id(c.message_id);
    request.set_language(c.language);
    request.set_time_zone(c.time_zone);
    const HttpRequest http = BuildWithdrawHttpRequest(c.upstream, request, c.token, c.deadline);
    EXPECT_EQ(http.url, c.url);
    EXPECT_EQ(http.headers, c.headers);
    EXPECT_EQ(http.deadline, c.deadline);
    EXPECT_EQ(http.method, "POST");
    EXPECT_EQ(http.body, "");
    EXPECT_THAT(http.response_headers, ::testing::ElementsAre("x-request-id", "retry-after"));
    if (c.token.empty()) {
      for (const std::string& header : http.headers) {
        EXPECT_THAT(header, ::testing::Not(::testing::StartsWith("X-Auth-Token")));
      }
    }
  }
}

}  // namespace
}  // namespace osm
