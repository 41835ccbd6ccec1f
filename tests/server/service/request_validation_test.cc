#include "server/service/request_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "server/osm/rich_status.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::WithdrawRequest;
using osm::testing::DecodedDetails;
using osm::testing::DecodeDetails;
using std::string_literals::operator""s;

constexpr absl::string_view kToken = "SECRET-TOKEN-123";

struct Fields {
  // NOLINTNEXTLINE(google-explicit-constructor): brace-initialized in tables.
  Fields(std::string case_id_in = "case-1", std::string message_id_in = "msg-1",
         std::string language_in = "", std::string time_zone_in = "")
      : case_id(std::move(case_id_in)),
        message_id(std::move(message_id_in)),
        language(std::move(language_in)),
        time_zone(std::move(time_zone_in)) {}
  std::string case_id;
  std::string message_id;
  std::string language;
  std::string time_zone;
};

WithdrawRequest MakeRequest(const Fields& fields) {
  WithdrawRequest request;
  request.set_case_id(fields.case_id);
  request.set_message_id(fields.message_id);
  request.set_language(fields.language);
  request.set_time_zone(fields.time_zone);
  return request;
}

struct Case {
  std::string name;
  Fields fields;
  std::vector<std::string> tokens = {std::string(kToken)};
  bool token_required = true;
  grpc::StatusCode code = grpc::StatusCode::OK;
  // For INVALID_ARGUMENT: every violating field, in order.
  std::vector<std::string> violating_fields;
};

std::vector<std::string> FieldsOf(const DecodedDetails& details) {
  std::vector<std::string> fields;
  for (const auto& bad_request : details.bad_requests) {
    for (const auto& violation : bad_request.field_violations())
      fields.push_back(violation.field());
  }
  return fields;
}

std::vector<Case> Cases() {
  const std::string token_max(kMaxTokenBytes - kToken.size(), 'a');
  std::vector<Case> cases = {
      {"minimal", {}, {std::string(kToken)}, true, grpc::StatusCode::OK, {}},
      {"all limits exactly",
       {std::string(32, 'c'), std::string(64, 'm'), std::string(32, 'l'), std::string(32, 't')},
       {std::string(kToken) + token_max},
       true,
       grpc::StatusCode::OK,
       {}},
      {"ids of one byte",
       {"c", "m", "", ""},
       {std::string(kToken)},
       true,
       grpc::StatusCode::OK,
       {}},
      {"ids with dots and slashes are encoded, not rejected",
       {"...", "a/../b", "zh-cn", "GMT+8"},
       {std::string(kToken)},
       true,
       grpc::StatusCode::OK,
       {}},
      {"case_id too long",
       {std::string(33, 'c')},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id"}},
      {"message_id too long",
       {"c", std::string(65, 'm')},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"message_id"}},
      {"language too long",
       {"c", "m", std::string(33, 'l')},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"language"}},
      {"time_zone too long",
       {"c", "m", "", std::string(33, 't')},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"time_zone"}},
      {"token too long",
       {},
       {std::string(kToken) + token_max + "a"},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"x-auth-token"}},
      {"empty case_id",
       {"", "m"},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id"}},
      {"empty message_id",
       {"c", ""},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"message_id"}},
      {"case_id dot",
       {".", "m"},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id"}},
      {"case_id dot dot",
       {"..", "m"},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id"}},
      {"message_id dot",
       {"c", "."},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"message_id"}},
      {"message_id dot dot",
       {"c", ".."},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"message_id"}},
      {"both ids dot dot",
       {"..", ".."},
       {std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id", "message_id"}},
      {"missing token", {}, {}, true, grpc::StatusCode::UNAUTHENTICATED, {}},
      {"empty token", {}, {""}, true, grpc::StatusCode::UNAUTHENTICATED, {}},
      {"two tokens",
       {},
       {std::string(kToken), std::string(kToken)},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"x-auth-token"}},
      {"two empty tokens",
       {},
       {"", ""},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"x-auth-token"}},
      {"token not required, none sent", {}, {}, false, grpc::StatusCode::OK, {}},
      {"token not required, bad fields still rejected",
       {"", ".."},
       {},
       false,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id", "message_id"}},
      {"every field wrong at once",
       {"", std::string(65, 'm'), "en\nus", "GMT\r+8"},
       {std::string(kToken) + "\n"},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id", "message_id", "language", "time_zone", "x-auth-token"}},
      {"several wrong, some fine",
       {"..", "m", std::string(40, 'l'), "GMT+8"},
       {std::string(kToken) + "\t"},
       true,
       grpc::StatusCode::INVALID_ARGUMENT,
       {"case_id", "language", "x-auth-token"}},
  };
  // Control characters in every header-bound field.
  const std::vector<std::pair<std::string, std::string>> controls = {
      {"LF", "\n"}, {"CR", "\r"}, {"NUL", "\0"s}, {"DEL", "\x7f"}, {"TAB", "\t"}, {"US", "\x1f"}};
  for (const auto& [name, control] : controls) {
    cases.push_back({"language with " + name,
                     {"c", "m", "en" + control + "us", ""},
                     {std::string(kToken)},
                     true,
                     grpc::StatusCode::INVALID_ARGUMENT,
                     {"language"}});
    cases.push_back({"time_zone with " + name,
                     {"c", "m", "", "GMT" + control + "8"},
                     {std::string(kToken)},
                     true,
                     grpc::StatusCode::INVALID_ARGUMENT,
                     {"time_zone"}});
    cases.push_back({"token with " + name,
                     {},
                     {std::string(kToken) + control + "x"},
                     true,
                     grpc::StatusCode::INVALID_ARGUMENT,
                     {"x-auth-token"}});
    cases.push_back({"token starting with " + name,
                     {},
                     {control + std::string(kToken)},
                     true,
                     grpc::StatusCode::INVALID_ARGUMENT,
                     {"x-auth-token"}});
  }
  // Bytes that are not control characters are fine in headers.
  cases.push_back({"language with UTF-8 and space",
                   {"c", "m", "zh cn \xC3\xA9", "GMT+8"},
                   {std::string(kToken)},
                   true,
                   grpc::StatusCode::OK,
                   {}});
  return cases;
}

TEST(ValidateWithdrawRequestTest, Table) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<absl::string_view> tokens(c.tokens.begin(), c.tokens.end());
    const grpc::Status status =
        ValidateWithdrawRequest(MakeRequest(c.fields), tokens, c.token_required);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();

    // The token never shows, whatever the outcome.
    EXPECT_THAT(status.error_message(), ::testing::Not(::testing::HasSubstr(std::string(kToken))));
    EXPECT_THAT(status.error_details(), ::testing::Not(::testing::HasSubstr(std::string(kToken))));

    const DecodedDetails details = DecodeDetails(status);
    if (c.code == grpc::StatusCode::OK) {
      EXPECT_FALSE(details.present);
      EXPECT_EQ(status.error_message(), "");
      continue;
    }
    ASSERT_TRUE(details.present);
    EXPECT_EQ(details.status.code(), static_cast<int>(c.code));
    EXPECT_EQ(details.status.message(), status.error_message());
    EXPECT_FALSE(status.error_message().empty());
    EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes);
    EXPECT_TRUE(details.other_type_urls.empty());
    EXPECT_TRUE(details.withdraw_responses.empty());
    EXPECT_TRUE(details.retry_infos.empty());
    EXPECT_TRUE(details.request_infos.empty());
    ASSERT_EQ(details.error_infos.size(), 1u);
    EXPECT_EQ(details.error_infos[0].domain(), "osm-grpc-adapter");
    for (const auto& bad_request : details.bad_requests) {
      for (const auto& violation : bad_request.field_violations()) {
        EXPECT_FALSE(violation.description().empty()) << violation.field();
        EXPECT_THAT(violation.description(),
                    ::testing::Not(::testing::HasSubstr(std::string(kToken))));
      }
    }
    if (c.code == grpc::StatusCode::UNAUTHENTICATED) {
      EXPECT_EQ(details.error_infos[0].reason(), "MISSING_AUTH_TOKEN");
      EXPECT_TRUE(details.bad_requests.empty());
    } else {
      ASSERT_EQ(c.code, grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(details.error_infos[0].reason(), "INVALID_REQUEST");
      ASSERT_EQ(details.bad_requests.size(), 1u);
      EXPECT_EQ(FieldsOf(details), c.violating_fields);
      // The message names every violating field too.
      for (const std::string& field : c.violating_fields) {
        EXPECT_THAT(status.error_message(), ::testing::HasSubstr(field));
      }
    }
  }
}

TEST(ValidateWithdrawRequestTest, MissingTokenWinsOverBadFields) {
  // Nothing is checked before the caller has identified itself.
  const grpc::Status status =
      ValidateWithdrawRequest(MakeRequest({"", ".."}), {}, /*token_required=*/true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "MISSING_AUTH_TOKEN");
  EXPECT_EQ(details.error_infos[0].domain(), "osm-grpc-adapter");
}

TEST(ValidateWithdrawRequestTest, TokenNotRequiredIgnoresTokens) {
  const std::vector<absl::string_view> tokens = {kToken};
  EXPECT_TRUE(ValidateWithdrawRequest(MakeRequest({}), tokens, /*token_required=*/false).ok());
}

TEST(ValidateWithdrawRequestTest, OverLongTokenIsNotEchoed) {
  // A long token full of the secret: the description may give its length,
  // never its content.
  std::string token;
  while (token.size() <= kMaxTokenBytes) token += std::string(kToken);
  const std::vector<absl::string_view> tokens = {token};
  const grpc::Status status = ValidateWithdrawRequest(MakeRequest({}), tokens, true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::Not(::testing::HasSubstr(std::string(kToken))));
  EXPECT_THAT(status.error_details(), ::testing::Not(::testing::HasSubstr(std::string(kToken))));
  EXPECT_THAT(status.error_details(), ::testing::Not(::testing::HasSubstr("SECRET")));
}

// ---- The other operations of the message group -----------------------------

template <typename Request>
Request Parse(const std::string& text) {
  Request request;
  if (!google::protobuf::TextFormat::ParseFromString(text, &request)) ADD_FAILURE() << text;
  return request;
}

// "field: description" for every violation, or the code's name when the
// status is not INVALID_ARGUMENT.
template <typename Request>
std::vector<std::string> Violations(const std::string& text) {
  const grpc::Status status =
      ValidateRequest(Parse<Request>(text), {kToken}, /*token_required=*/true);
  std::vector<std::string> out;
  if (status.ok()) return out;
  if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
    out.push_back(absl::StrCat("code ", status.error_code()));
    return out;
  }
  const DecodedDetails details = DecodeDetails(status);
  for (const auto& bad_request : details.bad_requests) {
    for (const auto& violation : bad_request.field_violations()) {
      out.push_back(absl::StrCat(violation.field(), ": ", violation.description()));
    }
  }
  return out;
}

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ValidateSendMessageTest, Limits) {
  using huaweicloud::osm::v2::SendMessageRequest;
  EXPECT_THAT(Violations<SendMessageRequest>(R"(case_id: "c1" content: "hi")"), IsEmpty());
  EXPECT_THAT(Violations<SendMessageRequest>(""),
              ElementsAre("case_id: is required", "content: is required"));
  const std::string max_content(10000, 'x');
  EXPECT_THAT(Violations<SendMessageRequest>(
                  absl::StrCat(R"(case_id: "c1" content: ")", max_content, "\"")),
              IsEmpty());
  EXPECT_THAT(Violations<SendMessageRequest>(
                  absl::StrCat(R"(case_id: "c1" content: ")", max_content, "y\"")),
              ElementsAre("content: must be at most 10000 characters, got 10001"));
  // Characters, not bytes: 10000 three-byte characters are allowed.
  std::string wide;
  for (int i = 0; i < 10000; ++i) wide += "\\344\\275\\240";
  EXPECT_THAT(
      Violations<SendMessageRequest>(absl::StrCat(R"(case_id: "c1" content: ")", wide, "\"")),
      IsEmpty());
  std::string ids;
  for (int i = 0; i < 11; ++i) absl::StrAppend(&ids, R"( accessory_ids: "a)", i, "\"");
  EXPECT_THAT(Violations<SendMessageRequest>(absl::StrCat(R"(case_id: "c1" content: "x")", ids)),
              ElementsAre("accessory_ids: must have at most 10 ids, got 11"));
  EXPECT_THAT(Violations<SendMessageRequest>(
                  R"(case_id: "c1" content: "x" accessory_ids: "" accessory_ids: "a\nb")"
                  R"( accessory_ids: "0123456789012345678901234567890123")"),
              ElementsAre("accessory_ids[0]: must not be empty",
                          "accessory_ids[1]: must not contain control characters",
                          "accessory_ids[2]: must be at most 32 bytes, got 34"));
  EXPECT_THAT(Violations<SendMessageRequest>(
                  absl::StrCat(R"(case_id: "c1" content: "x" group_id: ")", std::string(65, 'g'),
                               R"(" site: 7 language: "a\tb")")),
              ElementsAre("group_id: must be at most 64 bytes, got 65",
                          "language: must not contain control characters",
                          "site: must be a Site value, got 7"));
}

TEST(ValidateListMessagesTest, Limits) {
  using huaweicloud::osm::v2::ListMessagesRequest;
  EXPECT_THAT(Violations<ListMessagesRequest>(R"(case_id: "c1" offset: 65535 limit: 100)"),
              IsEmpty());
  EXPECT_THAT(Violations<ListMessagesRequest>(R"(case_id: ".." offset: 65536 limit: 101)"),
              ElementsAre("case_id: must not be \".\" or \"..\"",
                          "offset: must be from 0 to 65535, got 65536",
                          "limit: must be from 0 to 100, got 101"));
  EXPECT_THAT(Violations<ListMessagesRequest>(R"(case_id: "c1" offset: -1 limit: -1)"),
              ElementsAre("offset: must be from 0 to 65535, got -1",
                          "limit: must be from 0 to 100, got -1"));
}

TEST(ValidateListMoreMessagesTest, Limits) {
  using huaweicloud::osm::v2::ListMoreMessagesRequest;
  EXPECT_THAT(Violations<ListMoreMessagesRequest>(
                  R"(case_id: "c1" create_time: "2024-01-02T03:04:05Z" type: 1 limit: 1)"),
              IsEmpty());
  EXPECT_THAT(Violations<ListMoreMessagesRequest>(R"(case_id: "c1" type: 2)"),
              ElementsAre("create_time: is required", "type: must be from 0 to 1, got 2",
                          "limit: must be from 1 to 100, got 0"));
  EXPECT_THAT(Violations<ListMoreMessagesRequest>(absl::StrCat(
                  R"(case_id: "c1" limit: 1 create_time: ")", std::string(101, '1'), "\"")),
              ElementsAre("create_time: must be at most 100 bytes, got 101"));
}

TEST(ValidatePollNewMessagesTest, CaseIds) {
  using huaweicloud::osm::v2::PollNewMessagesRequest;
  EXPECT_THAT(Violations<PollNewMessagesRequest>(R"(case_ids: "c1" case_ids: "c2")"), IsEmpty());
  EXPECT_THAT(Violations<PollNewMessagesRequest>(""),
              ElementsAre("case_ids: must name at least one case"));
  EXPECT_THAT(
      Violations<PollNewMessagesRequest>(absl::StrCat(
          R"(case_ids: "" case_ids: "a,b" case_ids: "a\rb" case_ids: ")", std::string(33, 'c'),
          R"(" last_message_time_id: ")", std::string(65, 'm'), "\"")),
      ElementsAre("case_ids[0]: must not be empty",
                  "case_ids[1]: must not contain \",\" (case ids are sent comma-joined)",
                  "case_ids[2]: must not contain control characters",
                  "case_ids[3]: must be at most 32 bytes, got 33",
                  "last_message_time_id: must be at most 64 bytes, got 65"));
  std::string many;
  for (int i = 0; i < 101; ++i) absl::StrAppend(&many, R"( case_ids: "c)", i, "\"");
  EXPECT_THAT(Violations<PollNewMessagesRequest>(many),
              ElementsAre("case_ids: must name at most 100 cases, got 101"));
}

TEST(ValidateOtherRequestsTest, Limits) {
  using namespace huaweicloud::osm::v2;  // NOLINT
  EXPECT_THAT(Violations<CountUnreadMessagesRequest>(R"(case_ids: "c1" site: SITE_CHINA)"),
              IsEmpty());
  EXPECT_THAT(Violations<MarkMessagesReadRequest>(R"(case_id: "c1")"), IsEmpty());
  EXPECT_THAT(Violations<MarkMessagesReadRequest>(""), ElementsAre("case_id: is required"));
  // ShowCaseDetail's case ids may be 64 bytes long.
  EXPECT_THAT(Violations<ListCaseMessagesRequest>(
                  absl::StrCat(R"(case_id: ")", std::string(64, 'c'), "\"")),
              IsEmpty());
  EXPECT_THAT(Violations<ListCaseMessagesRequest>(
                  absl::StrCat(R"(case_id: ")", std::string(65, 'c'), "\"")),
              ElementsAre("case_id: must be at most 64 bytes, got 65"));
  EXPECT_THAT(
      Violations<WatchNewMessagesRequest>(R"(case_ids: "c1" poll_interval { seconds: 3600 })"),
      IsEmpty());
  EXPECT_THAT(
      Violations<WatchNewMessagesRequest>(R"(case_ids: "c1" poll_interval { seconds: 3601 })"),
      ElementsAre("poll_interval: must be from 0 to 1h"));
  EXPECT_THAT(Violations<WatchNewMessagesRequest>(R"(case_ids: "c1" poll_interval { nanos: -1 })"),
              ElementsAre("poll_interval: must be from 0 to 1h"));
}

TEST(ValidateRequestTest, TokenRulesAsForWithdraw) {
  huaweicloud::osm::v2::ListMessagesRequest request;
  request.set_case_id("c1");
  EXPECT_EQ(ValidateRequest(request, {}, true).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ValidateRequest(request, {}, false).ok());
  const grpc::Status twice = ValidateRequest(request, {kToken, kToken}, true);
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(twice.error_message(), ::testing::HasSubstr("x-auth-token must be sent once"));
}

}  // namespace
}  // namespace osm
