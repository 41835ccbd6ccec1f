#include "server/osm/message_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the response messages
using testing::DecodedDetails;
using testing::DecodeDetails;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1'750'000'000);

HttpResponse Answer(int status, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse http;
  http.status = status;
  http.body = std::move(body);
  http.headers = std::move(headers);
  return http;
}

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// One message of OSM's documented shape, with fields OSM may add.
constexpr char kMessageJson[] =
    R"({"type":1,"replier_type":1,"replier":"u-9","content":"Hello","create_time":)"
    R"("2024-01-02T03:04:05Z","replier_name":"Support","is_first_message":0,"iam_user_type":2,)"
    R"("accessory_list":[{"accessory_id":"a-1","file_actual_name":"log.txt","size":3}],)"
    R"("new_field":{"x":[1,2]}})";

TEST(MapListMessagesOutcomeTest, CopiesEveryDocumentedField) {
  const std::string body = absl::StrCat(R"({"count":25,"message_list":[)", kMessageJson,
                                        R"(],"error_code":"","error_msg":"","extra":true})");
  auto mapped =
      MapListMessagesOutcome(Answer(200, body, {{"x-request-id", "req-7"}}), kNow, {}, 10);
  ASSERT_TRUE(mapped.status.ok()) << mapped.status.error_message();
  EXPECT_EQ(Json(mapped.response),
            R"({"total_count":25,"messages":[{"type":1,"replier_type":1,"replier":"u-9",)"
            R"("replier_name":"Support","content":"Hello","create_time":"2024-01-02T03:04:05Z",)"
            R"("create_timestamp":"2024-01-02T03:04:05Z","iam_user_type":2,)"
            R"("attachments":[{"accessory_id":"a-1","file_name":"log.txt"}]}],)"
            R"("next_offset":11,"request_id":"req-7"})");
  EXPECT_EQ(mapped.answer.http_status(), 200);
  EXPECT_EQ(mapped.answer.request_id(), "req-7");
  EXPECT_THAT(mapped.reason, IsEmpty());
}

TEST(MapListMessagesOutcomeTest, NextOffsetStopsAtTheEnd) {
  struct Case {
    int offset;
    int count;
    int returned;
    int next;
  };
  for (const Case& c : std::vector<Case>{{0, 25, 10, 10},
                                         {20, 25, 5, 0},
                                         {0, 0, 0, 0},
                                         {30, 25, 0, 0},
                                         {0, 10, 10, 0},
                                         {65535, 70000, 1, 65536}}) {
    std::string list;
    for (int i = 0; i < c.returned; ++i) absl::StrAppend(&list, i ? "," : "", R"({"content":"x"})");
    auto mapped = MapListMessagesOutcome(
        Answer(200, absl::StrCat(R"({"count":)", c.count, R"(,"message_list":[)", list, "]}")),
        kNow, {}, c.offset);
    ASSERT_TRUE(mapped.status.ok());
    EXPECT_EQ(mapped.response.next_offset(), c.next) << c.offset << " " << c.count;
    EXPECT_EQ(mapped.response.messages_size(), c.returned);
  }
}

TEST(MapListMessagesOutcomeTest, BusinessErrorOnHttp200) {
  auto mapped = MapListMessagesOutcome(
      Answer(200, R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})",
             {{"x-request-id", "req-1"}}),
      kNow, {}, 0);
  EXPECT_EQ(mapped.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(mapped.status.error_message(), "The case does not exist.");
  EXPECT_EQ(mapped.reason, "CASE_NOT_FOUND");
  const DecodedDetails details = DecodeDetails(mapped.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].domain(), "osm.myhuaweicloud.com");
  ASSERT_EQ(details.osm_answers.size(), 1u);
  EXPECT_EQ(details.osm_answers[0].error_code(), "OSM.01010015");
  EXPECT_EQ(details.osm_answers[0].http_status(), 200);
  EXPECT_EQ(details.osm_answers[0].request_id(), "req-1");
  EXPECT_THAT(details.withdraw_responses, IsEmpty());
  EXPECT_EQ(details.request_infos.size(), 1u);
}

// The error rules of a read, by the answer.
TEST(MapReadOutcomeTest, Table) {
  struct Case {
    std::string name;
    absl::StatusOr<HttpResponse> outcome;
    bool truncated;
    grpc::StatusCode code;
    std::string reason;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"gateway shape on 200", Answer(200, R"({"code":"APIGW.0101","message":"no api"})"), false,
       grpc::StatusCode::UNIMPLEMENTED, "API_NOT_PUBLISHED", "no api"},
      {"nested error on 200", Answer(200, R"({"error":{"code":"OSM.0002","message":"expired"}})"),
       false, grpc::StatusCode::UNAUTHENTICATED, "AUTHENTICATION_FAILED", "expired"},
      {"not JSON", Answer(200, "<html>oops</html>"), false, grpc::StatusCode::INTERNAL,
       "MALFORMED_UPSTREAM_RESPONSE", "not a JSON object: <html>oops</html>"},
      {"empty body", Answer(200, ""), false, grpc::StatusCode::INTERNAL,
       "MALFORMED_UPSTREAM_RESPONSE", "an empty body"},
      {"wrong field type", Answer(200, R"({"count":"many","message_list":[]})"), false,
       grpc::StatusCode::INTERNAL, "MALFORMED_UPSTREAM_RESPONSE", "not ListMessages's answer"},
      {"list of numbers", Answer(200, R"({"count":1,"message_list":[1,2]})"), false,
       grpc::StatusCode::INTERNAL, "MALFORMED_UPSTREAM_RESPONSE", "not ListMessages's answer"},
      {"cut off", Answer(200, R"({"count":1,"message_list":[{"content":"xx)"), true,
       grpc::StatusCode::INTERNAL, "UPSTREAM_RESPONSE_TOO_LARGE", "larger than 4194304 bytes"},
      {"unknown code on 200", Answer(200, R"({"error_code":"OSM.09999999","error_msg":"odd"})"),
       false, grpc::StatusCode::UNKNOWN, "UNKNOWN_ERROR_CODE", "odd"},
      {"throttled", Answer(429, R"({"error_code":"APIGW.0308","error_msg":"slow down"})"), false,
       grpc::StatusCode::RESOURCE_EXHAUSTED, "THROTTLED", "slow down"},
      {"503", Answer(503, "busy"), false, grpc::StatusCode::UNAVAILABLE, "UPSTREAM_HTTP_ERROR",
       "HTTP 503"},
      {"transport", absl::UnavailableError("connection refused"), false,
       grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE", "connection refused"},
  };
  for (Case c : cases) {
    SCOPED_TRACE(c.name);
    if (c.outcome.ok()) c.outcome->body_truncated = c.truncated;
    auto mapped = MapListMessagesOutcome(c.outcome, kNow, {}, 0);
    EXPECT_EQ(mapped.status.error_code(), c.code);
    EXPECT_EQ(mapped.reason, c.reason);
    EXPECT_THAT(mapped.status.error_message(), HasSubstr(c.message_part));
    const DecodedDetails details = DecodeDetails(mapped.status);
    ASSERT_EQ(details.error_infos.size(), 1u);
    EXPECT_EQ(details.error_infos[0].reason(), c.reason);
    if (c.outcome.ok()) {
      ASSERT_EQ(details.osm_answers.size(), 1u);
      EXPECT_EQ(details.osm_answers[0].http_status(), c.outcome->status);
    }
  }
}

// A write cannot tell whether OSM acted when its answer is unreadable.
TEST(MapWriteOutcomeTest, UnreadableIsUnknown) {
  auto sent = MapSendMessageOutcome(Answer(200, "<html>"), kNow, {});
  EXPECT_EQ(sent.status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(sent.reason, "MALFORMED_UPSTREAM_RESPONSE");
  HttpResponse cut = Answer(200, "{");
  cut.body_truncated = true;
  auto marked = MapMarkMessagesReadOutcome(cut, kNow, {});
  EXPECT_EQ(marked.status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(marked.reason, "UPSTREAM_RESPONSE_TOO_LARGE");
  EXPECT_THAT(marked.status.error_message(), HasSubstr("larger than 1048576 bytes"));
}

TEST(MapWriteOutcomeTest, SuccessCarriesTheRequestId) {
  for (const std::string body : {"", "{}", R"({"error_code":"","error_msg":""})"}) {
    auto sent = MapSendMessageOutcome(Answer(200, body, {{"x-request-id", "r-2"}}), kNow, {});
    ASSERT_TRUE(sent.status.ok()) << body;
    EXPECT_EQ(Json(sent.response), R"({"request_id":"r-2"})");
  }
  auto marked = MapMarkMessagesReadOutcome(
      Answer(200, R"({"error_code":"OSM.01010002","error_msg":"no"})"), kNow, {});
  EXPECT_EQ(marked.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(DecodeDetails(marked.status).osm_answers.at(0).error_code(), "OSM.01010002");
}

TEST(MapPollNewMessagesOutcomeTest, CasesStatusesAndMarker) {
  const std::string body = absl::StrCat(
      R"({"imstatus":[{"status":1,"incident_id":"c1"},{"status":0,"incident_id":"c2"}],)",
      R"("immsg":[{"incident_id":"c1","message_list":[)", kMessageJson, R"(]},)",
      R"({"incident_id":"c2","message_list":[]}],"last_message_time_id":"m-42","request_id":"b-1"})");
  auto mapped = MapPollNewMessagesOutcome(Answer(200, body), kNow, {});
  ASSERT_TRUE(mapped.status.ok()) << mapped.status.error_message();
  EXPECT_EQ(mapped.response.last_message_time_id(), "m-42");
  EXPECT_EQ(mapped.response.request_id(), "b-1");
  ASSERT_EQ(mapped.response.cases_size(), 2);
  EXPECT_EQ(mapped.response.cases(0).case_id(), "c1");
  ASSERT_EQ(mapped.response.cases(0).messages_size(), 1);
  EXPECT_EQ(mapped.response.cases(0).messages(0).content(), "Hello");
  EXPECT_EQ(mapped.response.cases(1).messages_size(), 0);
  EXPECT_EQ(Json(mapped.response.read_statuses(0)), R"({"case_id":"c1","read":true})");
  EXPECT_EQ(Json(mapped.response.read_statuses(1)), R"({"case_id":"c2"})");
}

TEST(MapCountUnreadMessagesOutcomeTest, DocsExample) {
  auto mapped = MapCountUnreadMessagesOutcome(
      Answer(200, R"({"imunread":[{"status":1,"incident_id":"case-123","unread_num":1}]})"), kNow,
      {});
  ASSERT_TRUE(mapped.status.ok());
  EXPECT_EQ(Json(mapped.response),
            R"({"counts":[{"case_id":"case-123","unread_count":1,"status":1}]})");
}

TEST(MapListCaseMessagesOutcomeTest, MessagesWithIds) {
  auto mapped = MapListCaseMessagesOutcome(
      Answer(200, R"({"incident_detail_info":{"incident_id":"c1","status":1,"message_list":[)"
                  R"({"type":0,"content":"first","message_id":"m-1","is_first_message":1,)"
                  R"("create_time":"2024-01-02 03:04:05"},{"type":1,"message_id":"m-2"}]}})"),
      kNow, {});
  ASSERT_TRUE(mapped.status.ok()) << mapped.status.error_message();
  ASSERT_EQ(mapped.response.messages_size(), 2);
  EXPECT_EQ(Json(mapped.response.messages(0)),
            R"({"message_id":"m-1","content":"first","create_time":"2024-01-02 03:04:05",)"
            R"("create_timestamp":"2024-01-02T03:04:05Z","is_first_message":true})");
  EXPECT_EQ(mapped.response.messages(1).message_id(), "m-2");
  EXPECT_EQ(mapped.response.messages(1).type(), 1);
}

TEST(MapReadOutcomeTest, EchoedSecretsAreRedactedEvenWhenEscaped) {
  CallSecrets secrets;
  secrets.Add("tok-secret");
  // "tok-secret" with its "t" escaped: the raw body does not contain it.
  auto mapped = MapListMessagesOutcome(
      Answer(200, R"({"count":1,"message_list":[{"content":"\u0074ok-secret and tok-secret"}]})",
             {{"x-request-id", "tok-secret"}}),
      kNow, secrets, 0);
  ASSERT_TRUE(mapped.status.ok());
  EXPECT_EQ(mapped.response.messages(0).content(), "[REDACTED] and [REDACTED]");
  EXPECT_EQ(mapped.response.request_id(), "[REDACTED]");
}

// protobuf's parser quotes the value it refused, unescaped: a secret the
// raw body hid behind an escape must not reach the status through it.
TEST(MapReadOutcomeTest, ParseErrorsAreRedactedToo) {
  CallSecrets secrets;
  secrets.Add("tok-secret");
  auto mapped = MapListMessagesOutcome(
      Answer(200, R"({"count":"\u0074ok-secret","message_list":[]})"), kNow, secrets, 0);
  EXPECT_EQ(mapped.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(mapped.reason, "MALFORMED_UPSTREAM_RESPONSE");
  EXPECT_THAT(mapped.status.error_message(), HasSubstr("[REDACTED]"));
  EXPECT_THAT(mapped.status.error_message(), ::testing::Not(HasSubstr("tok-secret")));
  EXPECT_THAT(mapped.status.error_details(), ::testing::Not(HasSubstr("tok-secret")));
}

TEST(MapListMessagesOutcomeTest, TimestampsStayInTheContractsRange) {
  auto mapped = MapListMessagesOutcome(
      Answer(200, R"({"count":3,"message_list":[{"create_time":"1969-12-31T23:59:59.5Z"},)"
                  R"({"create_time":"10000-01-01T00:00:00Z"},{"create_time":"infinite-future"}]})"),
      kNow, {}, 0);
  ASSERT_TRUE(mapped.status.ok()) << mapped.status.error_message();
  // Half a second before 1970: seconds round down, nanos count forward.
  EXPECT_EQ(mapped.response.messages(0).create_timestamp().seconds(), -1);
  EXPECT_EQ(mapped.response.messages(0).create_timestamp().nanos(), 500'000'000);
  EXPECT_FALSE(mapped.response.messages(1).has_create_timestamp());
  EXPECT_FALSE(mapped.response.messages(2).has_create_timestamp());
  EXPECT_EQ(mapped.response.messages(2).create_time(), "infinite-future");
}

TEST(ParseOsmTimeTest, Table) {
  struct Case {
    std::string json;
    std::string text;
    std::optional<absl::Time> time;
  };
  const absl::Time t = absl::FromUnixSeconds(1'704'164'645);  // 2024-01-02T03:04:05Z
  const std::vector<Case> cases = {
      {R"("2024-01-02T03:04:05Z")", "2024-01-02T03:04:05Z", t},
      {R"("2024-01-02T11:04:05+08:00")", "2024-01-02T11:04:05+08:00", t},
      {R"("2024-01-02T03:04:05.250Z")", "2024-01-02T03:04:05.250Z", t + absl::Milliseconds(250)},
      {R"("2024-01-02T03:04:05")", "2024-01-02T03:04:05", t},
      {R"("2024-01-02 03:04:05")", "2024-01-02 03:04:05", t},
      {R"("1704164645")", "1704164645", t},
      {"1704164645000", "1704164645000", t},
      {R"("1704164645123")", "1704164645123", t + absl::Milliseconds(123)},
      {R"("17041646451")", "17041646451", std::nullopt},
      {R"("yesterday")", "yesterday", std::nullopt},
      {R"("2024-13-02T03:04:05Z")", "2024-13-02T03:04:05Z", std::nullopt},
      {R"("")", "", std::nullopt},
      {"null", "", std::nullopt},
      {"1.5", "1.5", std::nullopt},
      {"-3", "-3", std::nullopt},
      {"true", "", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    google::protobuf::Value value;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(c.json, &value).ok());
    const OsmTime parsed = ParseOsmTime(value);
    EXPECT_EQ(parsed.text, c.text);
    EXPECT_EQ(parsed.time, c.time);
  }
}

}  // namespace
}  // namespace osm
