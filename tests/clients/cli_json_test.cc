// `osm-withdraw --json` against the real osm-adapter binary and a scripted
// upstream: one line of JSON on standard output, the exit status unchanged.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/clients/client_test_env.h"
#include "tests/support/adapter_process.h"
#include "tests/support/run_command.h"
#include "tests/support/scripted_upstream.h"

namespace osm {
namespace {

using testing::AdapterProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCommand;
using testing::ScriptedUpstream;
using ::testing::StartsWith;

constexpr char kToken[] = "cli-json-token-91b2";

class CliJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::AnswerLikeOsm(upstream_, "req-cli-ok", "req-cli-404");
    adapter_ = testing::StartAdapterProcess(upstream_);
    ASSERT_TRUE(adapter_->started()) << adapter_->Output();
  }

  testing::CommandResult Cli(const std::string& args) {
    return RunCommand(absl::StrCat(OSM_WITHDRAW_BINARY, " --json --target=", adapter_->target(),
                                   " --token=", kToken, " ", args));
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterProcess> adapter_;
};

bool IsOneLineOfJson(const std::string& output) {
  google::protobuf::Value value;
  return absl::EndsWith(output, "}\n") && output.find('\n') == output.size() - 1 &&
         google::protobuf::util::JsonStringToMessage(output, &value).ok();
}

TEST_F(CliJsonTest, PrintsTheResponse) {
  const testing::CommandResult result = Cli("--case_id=c1 --message_id=m1");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, R"({"status":"OK","code":0,"response":{"error_code":"","error_msg":"",)"
                           R"("http_status":200,"request_id":"req-cli-ok"}})"
                           "\n");
  ASSERT_EQ(upstream_.request_count(), 1);
  EXPECT_EQ(upstream_.requests()[0].Header("X-Auth-Token"), kToken);
}

TEST_F(CliJsonTest, PrintsTheErrorWithItsDecodedDetailsAndExitsWithTheCode) {
  const testing::CommandResult result = Cli("--case_id=missing --message_id=m1");
  EXPECT_EQ(result.exit_code, 5) << result.output;
  EXPECT_THAT(result.output,
              StartsWith(R"({"status":"NOT_FOUND","code":5,"message":"The case does not exist.",)"
                         R"("reason":"CASE_NOT_FOUND","domain":"osm.myhuaweicloud.com",)"
                         R"("upstream_error_code":"OSM.01010015","upstream_http_status":200,)"
                         R"("request_id":"req-cli-404","details":[)"));
  EXPECT_THAT(result.output, HasSubstr(R"("@type":"type.googleapis.com/google.rpc.RequestInfo")"));
  EXPECT_TRUE(IsOneLineOfJson(result.output)) << result.output;
  EXPECT_THAT(result.output, Not(HasSubstr(kToken)));
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(CliJsonTest, PrintsFieldViolations) {
  const testing::CommandResult result =
      Cli(absl::StrCat("--case_id=", std::string(40, 'c'), " --message_id=m1"));
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_THAT(result.output, HasSubstr(R"("field_violations":[{"field":"case_id",)"
                                       R"("description":"must be at most 32 bytes, got 40"}])"));
  EXPECT_TRUE(IsOneLineOfJson(result.output)) << result.output;
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST_F(CliJsonTest, AnUnreachableAdapterIsUnavailable) {
  const testing::CommandResult result = RunCommand(
      absl::StrCat(OSM_WITHDRAW_BINARY,
                   " --json --target=127.0.0.1:1 --timeout=5s --case_id=c1 --message_id=m1"));
  EXPECT_EQ(result.exit_code, 14) << result.output;
  EXPECT_THAT(result.output, StartsWith(R"({"status":"UNAVAILABLE","code":14,"message":)"));
  EXPECT_TRUE(IsOneLineOfJson(result.output)) << result.output;
}

}  // namespace
}  // namespace osm
