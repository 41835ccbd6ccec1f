#include "server/service/request_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
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

}  // namespace
}  // namespace osm
