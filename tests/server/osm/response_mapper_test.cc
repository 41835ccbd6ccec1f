#include "server/osm/response_mapper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/osm/osm_error_codes.h"
#include "server/osm/rich_status.h"
#include "tests/support/status_details.h"
#include "tests/support/text_checks.h"

namespace osm {
namespace {

using grpc::StatusCode;
using huaweicloud::osm::v2::WithdrawResponse;
using osm::testing::DecodedDetails;
using osm::testing::DecodeDetails;
using osm::testing::IsValidUtf8;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Matcher;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kUpstream[] = "osm.myhuaweicloud.com";
constexpr char kAdapter[] = "osm-grpc-adapter";
constexpr char kSecret[] = "SECRET-TOKEN-123";

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

HttpResponse Http(int status, std::string body, std::string request_id = "",
                  std::string retry_after = "", bool truncated = false) {
  HttpResponse http;
  http.status = status;
  http.body = std::move(body);
  if (!request_id.empty()) http.headers.emplace_back("x-request-id", std::move(request_id));
  if (!retry_after.empty()) http.headers.emplace_back("retry-after", std::move(retry_after));
  http.body_truncated = truncated;
  return http;
}

CallSecrets Secrets(std::initializer_list<std::string> secrets) {
  CallSecrets out;
  for (const std::string& secret : secrets) out.Add(secret);
  return out;
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

bool SameResponse(const WithdrawResponse& a, const WithdrawResponse& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// The invariants of every non-OK status for an answer OSM gave: exactly one
// ErrorInfo whose reason is result.reason, RequestInfo iff there is a request
// id, RetryInfo iff Retry-After was usable, exactly one WithdrawResponse equal
// to result.response, and a bounded, valid message.
void CheckAnswerDetails(const MappedWithdraw& result, const HttpResponse& http) {
  const grpc::Status& status = result.status;
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(result.reason.empty());
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_TRUE(IsValidUtf8(status.error_message()));
  EXPECT_FALSE(status.error_message().empty());
  EXPECT_LE(result.response.error_msg().size(), kMaxErrorMsgBytes);
  EXPECT_TRUE(IsValidUtf8(result.response.error_msg()));
  EXPECT_EQ(result.response.http_status(), http.status);

  const DecodedDetails details = DecodeDetails(status);
  ASSERT_TRUE(details.present);
  EXPECT_EQ(details.status.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(details.status.message(), status.error_message());
  EXPECT_TRUE(details.other_type_urls.empty());
  EXPECT_TRUE(details.bad_requests.empty());

  ASSERT_EQ(details.error_infos.size(), 1u);
  const google::rpc::ErrorInfo& info = details.error_infos[0];
  EXPECT_EQ(info.reason(), result.reason);
  const auto& metadata = info.metadata();
  ASSERT_EQ(metadata.count("httpStatus"), 1u);
  EXPECT_EQ(metadata.at("httpStatus"), absl::StrCat(http.status));
  if (result.response.error_code().empty()) {
    EXPECT_EQ(metadata.count("errorCode"), 0u);
  } else {
    ASSERT_EQ(metadata.count("errorCode"), 1u);
    EXPECT_EQ(metadata.at("errorCode"), result.response.error_code());
  }

  if (result.response.request_id().empty()) {
    EXPECT_TRUE(details.request_infos.empty());
    EXPECT_EQ(metadata.count("requestId"), 0u);
  } else {
    ASSERT_EQ(details.request_infos.size(), 1u);
    EXPECT_EQ(details.request_infos[0].request_id(), result.response.request_id());
    ASSERT_EQ(metadata.count("requestId"), 1u);
    EXPECT_EQ(metadata.at("requestId"), result.response.request_id());
  }

  if (result.retry_delay.has_value()) {
    ASSERT_EQ(details.retry_infos.size(), 1u);
    const auto& delay = details.retry_infos[0].retry_delay();
    EXPECT_EQ(absl::Seconds(delay.seconds()) + absl::Nanoseconds(delay.nanos()),
              *result.retry_delay);
  } else {
    EXPECT_TRUE(details.retry_infos.empty());
  }

  ASSERT_EQ(details.withdraw_responses.size(), 1u);
  EXPECT_TRUE(SameResponse(details.withdraw_responses[0], result.response))
      << details.withdraw_responses[0].ShortDebugString() << " vs "
      << result.response.ShortDebugString();
}

std::string DescribeResult(const MappedWithdraw& result) {
  return absl::StrCat("code=", static_cast<int>(result.status.error_code()),
                      " reason=", result.reason, " message=", result.status.error_message(),
                      " response={", result.response.ShortDebugString(), "}");
}

// ---- OK answers --------------------------------------------------------------

TEST(MapWithdrawOutcomeTest, SuccessfulAnswers) {
  struct Case {
    std::string name;
    HttpResponse http;
    std::string request_id;
  };
  const std::vector<Case> cases = {
      {"empty body", Http(200, ""), ""},
      {"whitespace body", Http(200, " \r\n\t "), ""},
      {"empty object", Http(200, "{}", "hdr-1"), "hdr-1"},
      {"empty code and message", Http(200, R"({"error_code":"","error_msg":""})"), ""},
      {"null code", Http(200, R"({"error_code":null})"), ""},
      {"null code and message", Http(200, R"({"error_code":null,"error_msg":null})"), ""},
      {"request id from body",
       Http(200, R"({"error_code":"","error_msg":"","request_id":"body-req"})"), "body-req"},
      {"header request id wins",
       Http(200, R"({"error_code":"","request_id":"body-req"})", "hdr-req"), "hdr-req"},
      {"unknown fields ignored", Http(200, R"({"error_code":"","extra":[1,2,{"x":1}]})"), ""},
      {"201", Http(201, ""), ""},
      {"204", Http(204, "", "r204"), "r204"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const MappedWithdraw result = MapWithdrawOutcome(c.http, kNow);
    EXPECT_TRUE(result.status.ok()) << DescribeResult(result);
    EXPECT_EQ(result.status.error_message(), "");
    EXPECT_EQ(result.status.error_details(), "");
    EXPECT_EQ(result.reason, "");
    EXPECT_EQ(result.response.error_code(), "");
    EXPECT_EQ(result.response.error_msg(), "");
    EXPECT_EQ(result.response.http_status(), c.http.status);
    EXPECT_EQ(result.response.request_id(), c.request_id);
  }
}

// ---- Known error codes ------------------------------------------------------

TEST(MapWithdrawOutcomeTest, EveryKnownCodeWithHttp200) {
  for (const OsmErrorCode& entry : KnownOsmErrorCodes()) {
    const std::string code(entry.code);
    SCOPED_TRACE(code);
    const HttpResponse http =
        Http(200, absl::StrCat(R"({"error_code":")", code, R"(","error_msg":"what went wrong"})"),
             "req-42");
    const MappedWithdraw result = MapWithdrawOutcome(http, kNow);
    EXPECT_EQ(result.status.error_code(), entry.grpc_code) << DescribeResult(result);
    EXPECT_EQ(result.reason, std::string(entry.reason));
    EXPECT_EQ(result.status.error_message(), "what went wrong");
    EXPECT_EQ(result.response.error_code(), code);
    EXPECT_EQ(result.response.error_msg(), "what went wrong");
    EXPECT_EQ(result.response.request_id(), "req-42");
    CheckAnswerDetails(result, http);
    const DecodedDetails details = DecodeDetails(result.status);
    ASSERT_EQ(details.error_infos.size(), 1u);
    EXPECT_EQ(details.error_infos[0].domain(), kUpstream);
    EXPECT_EQ(details.error_infos[0].metadata().at("errorCode"), code);
    EXPECT_EQ(details.error_infos[0].metadata().at("httpStatus"), "200");
    EXPECT_EQ(details.error_infos[0].metadata().at("requestId"), "req-42");
  }
}

struct AnswerCase {
  std::string name;
  HttpResponse http;
  StatusCode code;
  std::string reason;
  std::string domain;
  std::string error_code;
  std::string error_msg;
  std::string request_id;
  Matcher<std::string> message;
};

void RunAnswerCases(const std::vector<AnswerCase>& cases) {
  for (const AnswerCase& c : cases) {
    SCOPED_TRACE(c.name);
    const MappedWithdraw result = MapWithdrawOutcome(c.http, kNow);
    EXPECT_EQ(result.status.error_code(), c.code) << DescribeResult(result);
    EXPECT_EQ(result.reason, c.reason);
    EXPECT_EQ(result.response.error_code(), c.error_code);
    EXPECT_EQ(result.response.error_msg(), c.error_msg);
    EXPECT_EQ(result.response.request_id(), c.request_id);
    EXPECT_EQ(result.response.http_status(), c.http.status);
    EXPECT_THAT(result.status.error_message(), c.message);
    CheckAnswerDetails(result, c.http);
    const DecodedDetails details = DecodeDetails(result.status);
    if (details.error_infos.size() == 1) {
      EXPECT_EQ(details.error_infos[0].domain(), c.domain);
    }
  }
}

TEST(MapWithdrawOutcomeTest, CodeAndStatusTogether) {
  const std::string gw0201 = R"({"error_code":"APIGW.0201","error_msg":"gw","request_id":"g1"})";
  RunAnswerCases({
      {"APIGW.0201 with 400", Http(400, gw0201), StatusCode::INVALID_ARGUMENT,
       "GATEWAY_REQUEST_ERROR", kUpstream, "APIGW.0201", "gw", "g1", Eq("gw")},
      {"APIGW.0201 with 413", Http(413, gw0201), StatusCode::INVALID_ARGUMENT,
       "GATEWAY_REQUEST_ERROR", kUpstream, "APIGW.0201", "gw", "g1", Eq("gw")},
      {"APIGW.0201 with 504", Http(504, gw0201), StatusCode::DEADLINE_EXCEEDED,
       "GATEWAY_REQUEST_ERROR", kUpstream, "APIGW.0201", "gw", "g1", Eq("gw")},
      {"APIGW.0201 with 200", Http(200, gw0201), StatusCode::INVALID_ARGUMENT,
       "GATEWAY_REQUEST_ERROR", kUpstream, "APIGW.0201", "gw", "g1", Eq("gw")},
      // Any other known code decides whatever the status.
      {"OSM.01010015 with 500", Http(500, R"({"error_code":"OSM.01010015","error_msg":"no case"})"),
       StatusCode::NOT_FOUND, "CASE_NOT_FOUND", kUpstream, "OSM.01010015", "no case", "",
       Eq("no case")},
      {"APIGW.0101 with 404", Http(404, R"({"error_code":"APIGW.0101","error_msg":"no api"})"),
       StatusCode::UNIMPLEMENTED, "API_NOT_PUBLISHED", kUpstream, "APIGW.0101", "no api", "",
       Eq("no api")},
      {"APIGW.0301 with 401",
       Http(
           401,
           R"({"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"abc"})"),
       StatusCode::UNAUTHENTICATED, "IAM_AUTHENTICATION_FAILED", kUpstream, "APIGW.0301",
       "Incorrect IAM authentication information", "abc",
       Eq("Incorrect IAM authentication information")},
      {"APIGW.0308 with 429", Http(429, R"({"error_code":"APIGW.0308","error_msg":"slow down"})"),
       StatusCode::RESOURCE_EXHAUSTED, "THROTTLED", kUpstream, "APIGW.0308", "slow down", "",
       Eq("slow down")},
      {"known code, no message", Http(200, R"({"error_code":"OSM.01010015"})"),
       StatusCode::NOT_FOUND, "CASE_NOT_FOUND", kUpstream, "OSM.01010015", "", "",
       StartsWith("OSM answered HTTP 200")},
      // Unknown codes.
      {"unknown code with 200",
       Http(200, R"({"error_code":"OSM.99999999","error_msg":"odd"})", "u1"), StatusCode::UNKNOWN,
       "UNKNOWN_ERROR_CODE", kUpstream, "OSM.99999999", "odd", "u1", Eq("odd")},
      {"unknown code with 201", Http(201, R"({"error_code":"X.1"})"), StatusCode::UNKNOWN,
       "UNKNOWN_ERROR_CODE", kUpstream, "X.1", "", "", StartsWith("OSM answered HTTP 201")},
      {"unknown code with 404", Http(404, R"({"error_code":"OSM.99999999","error_msg":"gone"})"),
       StatusCode::NOT_FOUND, "UPSTREAM_HTTP_ERROR", kUpstream, "OSM.99999999", "gone", "",
       Eq("gone")},
      {"known code in lower case is unknown", Http(200, R"({"error_code":"osm.01010015"})"),
       StatusCode::UNKNOWN, "UNKNOWN_ERROR_CODE", kUpstream, "osm.01010015", "", "",
       StartsWith("OSM answered HTTP 200")},
  });
}

// ---- The HTTP status alone --------------------------------------------------

struct StatusOnly {
  int http_status;
  StatusCode code;
};

const std::vector<StatusOnly>& StatusOnlyTable() {
  static const auto* table = new std::vector<StatusOnly>{
      {100, StatusCode::UNKNOWN},
      {200, StatusCode::OK},
      {201, StatusCode::OK},
      {204, StatusCode::OK},
      {301, StatusCode::INTERNAL},
      {302, StatusCode::INTERNAL},
      {400, StatusCode::INVALID_ARGUMENT},
      {401, StatusCode::UNAUTHENTICATED},
      {403, StatusCode::PERMISSION_DENIED},
      {404, StatusCode::NOT_FOUND},
      {405, StatusCode::UNIMPLEMENTED},
      {408, StatusCode::DEADLINE_EXCEEDED},
      {409, StatusCode::ABORTED},
      {410, StatusCode::NOT_FOUND},
      {412, StatusCode::FAILED_PRECONDITION},
      {413, StatusCode::INVALID_ARGUMENT},
      {416, StatusCode::OUT_OF_RANGE},
      {418, StatusCode::FAILED_PRECONDITION},
      {429, StatusCode::RESOURCE_EXHAUSTED},
      {499, StatusCode::CANCELLED},
      {500, StatusCode::INTERNAL},
      {501, StatusCode::UNIMPLEMENTED},
      {502, StatusCode::UNAVAILABLE},
      {503, StatusCode::UNAVAILABLE},
      {504, StatusCode::DEADLINE_EXCEEDED},
      {505, StatusCode::INTERNAL},
      {600, StatusCode::UNKNOWN},
  };
  return *table;
}

TEST(GrpcCodeForHttpStatusTest, Table) {
  for (const StatusOnly& c : StatusOnlyTable()) {
    SCOPED_TRACE(c.http_status);
    EXPECT_EQ(GrpcCodeForHttpStatus(c.http_status), c.code);
  }
}

TEST(MapWithdrawOutcomeTest, StatusOnlyWithEmptyBody) {
  for (const StatusOnly& c : StatusOnlyTable()) {
    SCOPED_TRACE(c.http_status);
    const HttpResponse http = Http(c.http_status, "");
    const MappedWithdraw result = MapWithdrawOutcome(http, kNow);
    EXPECT_EQ(result.status.error_code(), c.code) << DescribeResult(result);
    EXPECT_EQ(result.response.http_status(), c.http_status);
    if (c.code == StatusCode::OK) {
      EXPECT_EQ(result.reason, "");
      continue;
    }
    const bool redirect = c.http_status >= 300 && c.http_status < 400;
    EXPECT_EQ(result.reason, redirect ? "UPSTREAM_REDIRECT" : "UPSTREAM_HTTP_ERROR");
    EXPECT_THAT(result.status.error_message(),
                StartsWith(absl::StrCat("OSM answered HTTP ", c.http_status)));
    CheckAnswerDetails(result, http);
    const DecodedDetails details = DecodeDetails(result.status);
    ASSERT_EQ(details.error_infos.size(), 1u);
    EXPECT_EQ(details.error_infos[0].domain(), kUpstream);
  }
}

// ---- Body shapes --------------------------------------------------------------

TEST(MapWithdrawOutcomeTest, BodyShapes) {
  const std::string html = "<html>502 Bad Gateway</html>";
  RunAnswerCases({
      {"errorCode/errorMsg", Http(200, R"({"errorCode":"OSM.01010015","errorMsg":"x"})"),
       StatusCode::NOT_FOUND, "CASE_NOT_FOUND", kUpstream, "OSM.01010015", "x", "", Eq("x")},
      {"code/message", Http(401, R"({"code":"APIGW.0301","message":"m"})"),
       StatusCode::UNAUTHENTICATED, "IAM_AUTHENTICATION_FAILED", kUpstream, "APIGW.0301", "m", "",
       Eq("m")},
      {"numeric code", Http(401, R"({"code":401,"message":"m"})"), StatusCode::UNAUTHENTICATED,
       "UPSTREAM_HTTP_ERROR", kUpstream, "401", "m", "", Eq("m")},
      {"numeric code with 200", Http(200, R"({"code":401,"message":"m"})"), StatusCode::UNKNOWN,
       "UNKNOWN_ERROR_CODE", kUpstream, "401", "m", "", Eq("m")},
      {"nested under error", Http(200, R"({"error":{"code":"OSM.01010015","message":"m"}})"),
       StatusCode::NOT_FOUND, "CASE_NOT_FOUND", kUpstream, "OSM.01010015", "m", "", Eq("m")},
      {"nested under error with request id",
       Http(404, R"({"error":{"error_code":"OSM.01010015","error_msg":"m","request_id":"n1"}})"),
       StatusCode::NOT_FOUND, "CASE_NOT_FOUND", kUpstream, "OSM.01010015", "m", "n1", Eq("m")},
      {"nested under another key",
       Http(200, R"({"fault":{"error_code":"OSM.01010015","error_msg":"m"}})"),
       StatusCode::NOT_FOUND, "CASE_NOT_FOUND", kUpstream, "OSM.01010015", "m", "", Eq("m")},
      {"error as plain string", Http(500, R"({"error":"plain string"})"), StatusCode::INTERNAL,
       "UPSTREAM_HTTP_ERROR", kUpstream, "", "plain string", "", Eq("plain string")},
      {"HTML from a load balancer", Http(502, html), StatusCode::UNAVAILABLE, "UPSTREAM_HTTP_ERROR",
       kUpstream, "", "", "",
       AllOf(StartsWith("OSM answered HTTP 502"), HasSubstr("not a JSON object"), HasSubstr(html))},
      {"JSON array with 200", Http(200, "[1,2]"), StatusCode::UNKNOWN,
       "MALFORMED_UPSTREAM_RESPONSE", kAdapter, "", "", "",
       AllOf(StartsWith("OSM answered HTTP 200"), HasSubstr("not a JSON object"),
             HasSubstr("[1,2]"))},
      {"JSON string with 200", Http(200, R"("str")"), StatusCode::UNKNOWN,
       "MALFORMED_UPSTREAM_RESPONSE", kAdapter, "", "", "",
       AllOf(StartsWith("OSM answered HTTP 200"), HasSubstr("not a JSON object"))},
      {"not JSON with 200", Http(200, "not json"), StatusCode::UNKNOWN,
       "MALFORMED_UPSTREAM_RESPONSE", kAdapter, "", "", "",
       AllOf(StartsWith("OSM answered HTTP 200"), HasSubstr("not a JSON object"),
             HasSubstr("not json"))},
      {"broken object with 200", Http(200, R"({"error_code":"OSM.01010015")"), StatusCode::UNKNOWN,
       "MALFORMED_UPSTREAM_RESPONSE", kAdapter, "", "", "", HasSubstr("not a JSON object")},
      {"code of wrong type with 200", Http(200, R"({"error_code":{"a":1}})"), StatusCode::UNKNOWN,
       "MALFORMED_UPSTREAM_RESPONSE", kAdapter, "", "", "", StartsWith("OSM answered HTTP 200")},
      {"code as bool with 200", Http(200, R"({"error_code":true})"), StatusCode::UNKNOWN,
       "MALFORMED_UPSTREAM_RESPONSE", kAdapter, "", "", "", StartsWith("OSM answered HTTP 200")},
      {"truncated body with 200",
       Http(200, R"({"error_code":"OSM.01010015"})", "t1", "", /*truncated=*/true),
       StatusCode::UNKNOWN, "UPSTREAM_RESPONSE_TOO_LARGE", kAdapter, "", "", "t1",
       StartsWith("OSM answered HTTP 200")},
      {"truncated body with 502", Http(502, std::string(1000, 'x'), "", "", /*truncated=*/true),
       StatusCode::UNAVAILABLE, "UPSTREAM_HTTP_ERROR", kUpstream, "", "", "",
       StartsWith("OSM answered HTTP 502")},
  });
}

TEST(MapWithdrawOutcomeTest, RawBodyInMessageIsBounded) {
  const std::string head = "<html><body>";
  std::string body = head;
  for (int i = 0; body.size() < 10000; ++i) absl::StrAppend(&body, "line ", i, "; ");
  body += "</body></html>";
  const HttpResponse http = Http(502, body);
  const MappedWithdraw result = MapWithdrawOutcome(http, kNow);
  EXPECT_EQ(result.status.error_code(), StatusCode::UNAVAILABLE);
  const std::string& message = result.status.error_message();
  EXPECT_THAT(message, HasSubstr("not a JSON object"));
  EXPECT_THAT(message, HasSubstr(body.substr(0, 200)));
  EXPECT_THAT(message, Not(HasSubstr("</body></html>")));
  const std::string prefix = "OSM answered HTTP 502 with a body that is not a JSON object: ";
  EXPECT_LE(message.size(), prefix.size() + kMaxRawBodyInMessageBytes);
  CheckAnswerDetails(result, http);
}

TEST(MapWithdrawOutcomeTest, RawBodyControlCharactersAndInvalidUtf8AreSanitized) {
  const HttpResponse http = Http(503, "<html>\r\nService\x01Unavailable\xFF</html>");
  const MappedWithdraw result = MapWithdrawOutcome(http, kNow);
  EXPECT_EQ(result.status.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("Service Unavailable\xEF\xBF\xBD"));
  CheckAnswerDetails(result, http);
}

// ---- Details --------------------------------------------------------------------

TEST(MapWithdrawOutcomeTest, RetryAfterBecomesRetryInfo) {
  const absl::Time date =
      absl::FromCivil(absl::CivilSecond(2026, 10, 21, 7, 28, 0), absl::UTCTimeZone());
  struct Case {
    std::string name;
    std::string retry_after;
    absl::Time now;
    std::optional<absl::Duration> delay;
  };
  const std::vector<Case> cases = {
      {"seconds", "120", kNow, absl::Seconds(120)},
      {"HTTP date 30 s ahead", "Wed, 21 Oct 2026 07:28:00 GMT", date - absl::Seconds(30),
       absl::Seconds(30)},
      {"garbage", "soon", kNow, std::nullopt},
      {"absent", "", kNow, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const HttpResponse http = Http(503, "", "r1", c.retry_after);
    const MappedWithdraw result = MapWithdrawOutcome(http, c.now);
    EXPECT_EQ(result.status.error_code(), StatusCode::UNAVAILABLE);
    EXPECT_EQ(result.retry_delay, c.delay);
    CheckAnswerDetails(result, http);
    const DecodedDetails details = DecodeDetails(result.status);
    if (c.delay) {
      ASSERT_EQ(details.retry_infos.size(), 1u);
      EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), absl::ToInt64Seconds(*c.delay));
      EXPECT_EQ(details.retry_infos[0].retry_delay().nanos(), 0);
    } else {
      EXPECT_TRUE(details.retry_infos.empty());
    }
  }
}

TEST(MapWithdrawOutcomeTest, RequestInfoOnlyWithRequestId) {
  struct Case {
    std::string name;
    HttpResponse http;
    std::string request_id;
  };
  const std::vector<Case> cases = {
      {"none", Http(500, ""), ""},
      {"header", Http(500, "", "hdr-9"), "hdr-9"},
      {"body", Http(500, R"({"error_msg":"x","request_id":"body-9"})"), "body-9"},
      {"header wins over body", Http(500, R"({"request_id":"body-9"})", "hdr-9"), "hdr-9"},
      {"body requestId", Http(500, R"({"error_msg":"x","requestId":"body-10"})"), "body-10"},
      {"over-long id is bounded", Http(500, "", std::string(1000, 'r')),
       std::string(kMaxRequestIdBytes, 'r')},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const MappedWithdraw result = MapWithdrawOutcome(c.http, kNow);
    EXPECT_EQ(result.status.error_code(), StatusCode::INTERNAL);
    EXPECT_EQ(result.response.request_id(), c.request_id);
    CheckAnswerDetails(result, c.http);
  }
}

TEST(MapWithdrawOutcomeTest, MessagesAreBoundedAndValidUtf8) {
  const std::vector<std::pair<std::string, std::string>> units = {
      {"ASCII", "x"},
      {"2-byte", "\xC3\xA9"},
      {"3-byte", "\xE2\x82\xAC"},
      {"4-byte", "\xF0\x9F\x98\x80"},
  };
  for (const auto& [name, unit] : units) {
    SCOPED_TRACE(name);
    const std::string msg = Repeat(unit, static_cast<int>(100 * 1024 / unit.size()));
    const HttpResponse http =
        Http(200, absl::StrCat(R"({"error_code":"OSM.01010015","error_msg":")", msg, R"("})"), "r");
    const MappedWithdraw result = MapWithdrawOutcome(http, kNow);
    EXPECT_EQ(result.status.error_code(), StatusCode::NOT_FOUND);
    EXPECT_LE(result.status.error_message().size(), 1024u);
    EXPECT_GE(result.status.error_message().size(), 1000u);
    EXPECT_TRUE(IsValidUtf8(result.status.error_message()));
    EXPECT_THAT(result.status.error_message(), StartsWith(Repeat(unit, 10)));
    EXPECT_LE(result.response.error_msg().size(), 1024u);
    EXPECT_TRUE(IsValidUtf8(result.response.error_msg()));
    // Details ride in a header: they stay far below gRPC's 8 KiB soft limit.
    EXPECT_LT(result.status.error_details().size(), 4096u);
    CheckAnswerDetails(result, http);
  }
}

TEST(MapWithdrawOutcomeTest, ErrorCodeIsBounded) {
  const HttpResponse http =
      Http(200, absl::StrCat(R"({"error_code":")", std::string(500, 'E'), R"(","error_msg":"m"})"));
  const MappedWithdraw result = MapWithdrawOutcome(http, kNow);
  EXPECT_EQ(result.status.error_code(), StatusCode::UNKNOWN);
  EXPECT_LE(result.response.error_code().size(), kMaxErrorCodeBytes);
  CheckAnswerDetails(result, http);
}

// ---- Transport errors --------------------------------------------------------

TEST(MapWithdrawOutcomeTest, TransportErrors) {
  struct Case {
    absl::Status error;
    StatusCode code;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {absl::UnavailableError("connection refused"), StatusCode::UNAVAILABLE,
       "UPSTREAM_UNAVAILABLE"},
      {absl::DeadlineExceededError("timed out"), StatusCode::DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT"},
      {absl::CancelledError("cancelled"), StatusCode::CANCELLED, "CANCELLED"},
      {absl::InternalError("curl said no"), StatusCode::INTERNAL, "UPSTREAM_TRANSPORT_ERROR"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error.ToString());
    const MappedWithdraw result =
        MapWithdrawOutcome(absl::StatusOr<HttpResponse>(c.error), kNow, Secrets({kSecret}));
    EXPECT_EQ(result.status.error_code(), c.code);
    EXPECT_EQ(result.reason, c.reason);
    EXPECT_FALSE(result.status.error_message().empty());
    EXPECT_FALSE(result.retry_delay.has_value());
    EXPECT_EQ(result.response.http_status(), 0);
    const DecodedDetails details = DecodeDetails(result.status);
    ASSERT_TRUE(details.present);
    EXPECT_EQ(details.status.code(), static_cast<int>(c.code));
    ASSERT_EQ(details.error_infos.size(), 1u);
    EXPECT_EQ(details.error_infos[0].reason(), c.reason);
    EXPECT_EQ(details.error_infos[0].domain(), kAdapter);
    EXPECT_TRUE(details.withdraw_responses.empty());
    EXPECT_TRUE(details.request_infos.empty());
    EXPECT_TRUE(details.retry_infos.empty());
    EXPECT_TRUE(details.other_type_urls.empty());
  }
}

// ---- Secret redaction ---------------------------------------------------------

TEST(MapWithdrawOutcomeTest, SecretIsRedactedEverywhere) {
  const std::string secret = kSecret;
  struct Case {
    std::string name;
    HttpResponse http;
    // Where "[REDACTED]" must show instead.
    bool in_message;
    bool in_response;
  };
  std::string long_html = "<html>";
  long_html += std::string(300, 'p') + secret + "</html>";
  const std::vector<Case> cases = {
      {"in error_msg",
       Http(
           401,
           R"({"error_code":"APIGW.0301","error_msg":"bad token SECRET-TOKEN-123","request_id":"r"})"),
       true, true},
      {"in error_msg twice", Http(400, R"({"error_msg":"SECRET-TOKEN-123/SECRET-TOKEN-123"})"),
       true, true},
      {"in raw HTML", Http(502, "<html>token=SECRET-TOKEN-123</html>"), true, false},
      {"in X-Request-Id", Http(500, "", "rid-SECRET-TOKEN-123"), false, true},
      {"in body request_id", Http(500, R"({"error_msg":"m","request_id":"SECRET-TOKEN-123"})"),
       false, true},
      {"as error_code", Http(200, R"({"error_code":"SECRET-TOKEN-123"})"), true, true},
      {"in a malformed 200 body", Http(200, "oops SECRET-TOKEN-123"), true, false},
      {"in a truncated body", Http(200, "SECRET-TOKEN-123", "", "", true), false, false},
      {"after the raw-body cut", Http(502, long_html), false, false},
      // JSON escapes hide the secret from the raw body; parsing reveals it.
      {"escaped in error_msg", Http(400, R"({"error_msg":"tok SECRET\u002dTOKEN-123"})"), true,
       true},
      {"escaped in request_id",
       Http(500, R"({"error_msg":"m","request_id":"SECRET\u002DTOKEN-123"})"), false, true},
      {"escaped in nested error_msg",
       Http(403, R"({"error":{"code":"X","message":"SECRET\u002dTOKEN-123"}})"), true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const MappedWithdraw result = MapWithdrawOutcome(c.http, kNow, Secrets({secret}));
    ASSERT_FALSE(result.status.ok());
    EXPECT_THAT(result.status.error_message(), Not(HasSubstr(secret)));
    EXPECT_THAT(result.status.error_details(), Not(HasSubstr(secret)));
    EXPECT_THAT(result.response.SerializeAsString(), Not(HasSubstr(secret)));
    EXPECT_THAT(result.response.ShortDebugString(), Not(HasSubstr(secret)));
    EXPECT_THAT(result.reason, Not(HasSubstr(secret)));
    const DecodedDetails details = DecodeDetails(result.status);
    EXPECT_THAT(details.status.ShortDebugString(), Not(HasSubstr(secret)));
    for (const auto& info : details.error_infos) {
      EXPECT_THAT(info.ShortDebugString(), Not(HasSubstr(secret)));
    }
    if (c.in_message) {
      EXPECT_THAT(result.status.error_message(), HasSubstr("[REDACTED]"));
    }
    if (c.in_response) {
      EXPECT_THAT(result.response.ShortDebugString(), HasSubstr("[REDACTED]"));
    }
    CheckAnswerDetails(result, c.http);
  }
}

// The error code is unescaped by the JSON parser, so the raw body does not
// show the secret; the status message must not show it either (it is built
// from the error code when there is no error_msg).
TEST(MapWithdrawOutcomeTest, SecretJsonEscapedInErrorCodeIsRedacted) {
  const std::string secret = kSecret;
  for (int status : {200, 400, 502}) {
    SCOPED_TRACE(status);
    const HttpResponse http = Http(status, R"({"error_code":"SECRET\u002dTOKEN-123"})");
    const MappedWithdraw result = MapWithdrawOutcome(http, kNow, Secrets({secret}));
    ASSERT_FALSE(result.status.ok());
    EXPECT_THAT(result.status.error_message(), Not(HasSubstr(secret)));
    EXPECT_THAT(result.status.error_details(), Not(HasSubstr(secret)));
    EXPECT_THAT(result.response.ShortDebugString(), Not(HasSubstr(secret)));
    EXPECT_EQ(result.response.error_code(), "[REDACTED]");
    CheckAnswerDetails(result, http);
  }
}

TEST(MapWithdrawOutcomeTest, SecretSplitAcrossRawBodyCutDoesNotLeakAPrefix) {
  const std::string secret = kSecret;
  // Put the secret at every offset around the 256-byte cut of the raw body.
  for (std::size_t offset = 230; offset < 270; ++offset) {
    SCOPED_TRACE(offset);
    std::string body = "<html>";
    body += std::string(offset - body.size(), 'p');
    body += secret;
    body += std::string(100, 'q') + "</html>";
    const MappedWithdraw result = MapWithdrawOutcome(Http(502, body), kNow, Secrets({secret}));
    EXPECT_EQ(result.status.error_code(), StatusCode::UNAVAILABLE);
    const std::string& message = result.status.error_message();
    // No prefix of four or more bytes of the secret may survive.
    for (std::size_t n = 4; n <= secret.size(); ++n) {
      EXPECT_THAT(message, Not(HasSubstr(secret.substr(0, n))));
      EXPECT_THAT(result.status.error_details(), Not(HasSubstr(secret.substr(0, n))));
    }
  }
}

// Every secret of the call (a signing adapter has two: the security token
// and the signature) is redacted wherever the answer carries it, headers
// included.
TEST(MapWithdrawOutcomeTest, EverySecretOfTheCallIsRedacted) {
  const HttpResponse http =
      Http(429, R"({"error_msg":"bad signature SIG123 for TOKEN456","request_id":"r"})",
           "req-SIG123", "SIG123");
  const MappedWithdraw result = MapWithdrawOutcome(http, kNow, Secrets({"SIG123", "TOKEN456"}));
  EXPECT_EQ(result.status.error_message(), "bad signature [REDACTED] for [REDACTED]");
  EXPECT_EQ(result.response.request_id(), "req-[REDACTED]");
  EXPECT_FALSE(result.retry_delay.has_value());  // "[REDACTED]" is no delay
  for (const char* secret : {"SIG123", "TOKEN456"}) {
    EXPECT_THAT(result.status.error_details(), Not(HasSubstr(secret)));
  }
  CheckAnswerDetails(result, http);
}

TEST(MapWithdrawOutcomeTest, NoSecretMeansNoRedaction) {
  const HttpResponse http = Http(400, R"({"error_msg":"bad value abc"})");
  EXPECT_EQ(MapWithdrawOutcome(http, kNow, Secrets({""})).status.error_message(), "bad value abc");
  EXPECT_EQ(MapWithdrawOutcome(http, kNow, Secrets({"zzz"})).status.error_message(),
            "bad value abc");
}

// ---- ParseRetryAfter --------------------------------------------------------

TEST(ParseRetryAfterTest, Table) {
  const absl::Time now =
      absl::FromCivil(absl::CivilSecond(2026, 10, 21, 7, 27, 30), absl::UTCTimeZone());
  struct Case {
    std::string value;
    std::optional<absl::Duration> delay;
  };
  const std::vector<Case> cases = {
      {"", std::nullopt},
      {"   ", std::nullopt},
      {"0", absl::ZeroDuration()},
      {"1", absl::Seconds(1)},
      {"120", absl::Seconds(120)},
      {" 5 ", absl::Seconds(5)},
      {"86400", absl::Hours(24)},
      {"86401", absl::Hours(24)},
      {"999999999", absl::Hours(24)},
      {"-1", std::nullopt},
      {"1.5", std::nullopt},
      {"+5", std::nullopt},
      {"5s", std::nullopt},
      {"0x10", std::nullopt},
      {"soon", std::nullopt},
      {"Wed, 21 Oct 2026 07:28:00 GMT", absl::Seconds(30)},
      {"Wed, 21 Oct 2026 07:27:30 GMT", absl::ZeroDuration()},
      {"Tue, 20 Oct 2026 07:28:00 GMT", absl::ZeroDuration()},  // past
      {"Thu, 01 Jan 1970 00:00:00 GMT", absl::ZeroDuration()},  // long past
      {"Thu, 22 Oct 2026 07:28:00 GMT", absl::Hours(24)},       // just over a day
      {"Fri, 01 Jan 2100 00:00:00 GMT", absl::Hours(24)},       // far future
      {"Wed, 21 Oct 2026 07:28:00", std::nullopt},              // no zone
      {"2026-10-21T07:28:00Z", std::nullopt},                   // not an HTTP date
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("\"" + c.value + "\"");
    EXPECT_EQ(ParseRetryAfter(c.value, now), c.delay);
  }
}

// A valid delta-seconds too large to represent is still "a long time":
// capped at a day ("at most a day"; RFC 9111 1.2.2 says to saturate), not
// ignored as unreadable.
TEST(ParseRetryAfterTest, HugeDeltaSecondsIsCapped) {
  for (const char* value : {"99999999999", "4294967296", "2147483648000"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(ParseRetryAfter(value, kNow), std::optional<absl::Duration>(absl::Hours(24)));
  }
}

// ---- ParseOsmBody -------------------------------------------------------------

TEST(ParseOsmBodyTest, Table) {
  using Shape = OsmBody::Shape;
  struct Case {
    std::string body;
    Shape shape;
    std::string error_code;
    std::string error_msg;
    std::string request_id;
  };
  const std::vector<Case> cases = {
      {"", Shape::kEmpty, "", "", ""},
      {" \r\n\t", Shape::kEmpty, "", "", ""},
      {"{}", Shape::kObject, "", "", ""},
      {" { } ", Shape::kObject, "", "", ""},
      {R"({"error_code":"","error_msg":""})", Shape::kObject, "", "", ""},
      {R"({"error_code":null})", Shape::kObject, "", "", ""},
      {R"({"error_code":"A.1","error_msg":"B","request_id":"C"})", Shape::kObject, "A.1", "B", "C"},
      {R"({"errorCode":"A.1","errorMsg":"B","requestId":"C"})", Shape::kObject, "A.1", "B", "C"},
      {R"({"code":"A.1","message":"B"})", Shape::kObject, "A.1", "B", ""},
      {R"({"code":401,"message":"m"})", Shape::kObject, "401", "m", ""},
      {R"({"error_code":7})", Shape::kObject, "7", "", ""},
      {R"({"error":{"code":"A.1","message":"m"}})", Shape::kObject, "A.1", "m", ""},
      {R"({"error":{"error_code":"A.1","error_msg":"m","request_id":"r"}})", Shape::kObject, "A.1",
       "m", "r"},
      {R"({"fault":{"error_code":"A.1","error_msg":"m"}})", Shape::kObject, "A.1", "m", ""},
      {R"({"request_id":"r","fault":{"error_code":"A.1"}})", Shape::kObject, "A.1", "", "r"},
      {R"({"error":"plain string"})", Shape::kObject, "", "plain string", ""},
      {R"({"error_code":"A.1","extra":{"x":[1,2]}})", Shape::kObject, "A.1", "", ""},
      {R"({"error_msg":"caf\u00e9"})", Shape::kObject, "", "caf\xC3\xA9", ""},
      {R"({"error_code":{"a":1}})", Shape::kWrongTypes, "", "", ""},
      {R"({"error_code":true})", Shape::kWrongTypes, "", "", ""},
      {R"({"error_code":["A.1"]})", Shape::kWrongTypes, "", "", ""},
      {R"({"code":1.5})", Shape::kWrongTypes, "", "", ""},
      {"[1,2]", Shape::kNotJsonObject, "", "", ""},
      {R"("str")", Shape::kNotJsonObject, "", "", ""},
      {"42", Shape::kNotJsonObject, "", "", ""},
      {"null", Shape::kNotJsonObject, "", "", ""},
      {"not json", Shape::kNotJsonObject, "", "", ""},
      {"{not json", Shape::kNotJsonObject, "", "", ""},
      {R"({"error_code":"A.1")", Shape::kNotJsonObject, "", "", ""},
      {"<html>502 Bad Gateway</html>", Shape::kNotJsonObject, "", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const OsmBody parsed = ParseOsmBody(c.body);
    EXPECT_EQ(static_cast<int>(parsed.shape), static_cast<int>(c.shape));
    EXPECT_EQ(parsed.error_code, c.error_code);
    EXPECT_EQ(parsed.error_msg, c.error_msg);
    EXPECT_EQ(parsed.request_id, c.request_id);
  }
}

}  // namespace
}  // namespace osm
