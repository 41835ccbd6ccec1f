// The Python and Node examples (examples/python, examples/node) against the
// real osm-adapter binary and a scripted upstream. Each runs as a user runs
// it; the test checks what it prints, its exit status (the gRPC code) and
// what reached the upstream.
//
// Without their runtimes (python3-grpcio, or examples/node/node_modules) the
// tests are skipped; with OSM_CLIENT_TESTS_REQUIRED=1 in the environment
// (scripts/ci-clients.sh sets it) they fail instead.

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

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
using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCommand;
using testing::ScriptedUpstream;
using testing::ShellQuote;

constexpr char kToken[] = "language-client-token-3c8e";

enum class Language { kPython, kNode };

std::string Name(Language language) { return language == Language::kPython ? "Python" : "Node"; }

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Why the runtime of `language` cannot run the example, or "" when it can.
std::string MissingRuntime(Language language) {
  if (language == Language::kPython) {
    if (!Exists(OSM_PYTHON_STUBS_DIR "/huaweicloud/osm/v2/message_service_pb2_grpc.py")) {
      return "the Python stubs were not generated (grpc_python_plugin missing at configure time)";
    }
    const CommandResult probe =
        RunCommand(absl::StrCat(ShellQuote(OSM_PYTHON), " -c 'import grpc, google.protobuf'"));
    if (probe.exit_code != 0) {
      return absl::StrCat(OSM_PYTHON, " cannot import grpc (apt-get install python3-grpcio ",
                          "python3-protobuf): ", probe.output);
    }
    return "";
  }
  if (std::string(OSM_NODE).empty() || !Exists(OSM_NODE)) return "node not found";
  if (!Exists(OSM_SOURCE_DIR "/examples/node/node_modules/@grpc/grpc-js/package.json")) {
    return "examples/node/node_modules is missing (run npm ci in examples/node)";
  }
  return "";
}

class LanguageClientTest : public ::testing::TestWithParam<Language> {
 protected:
  void SetUp() override {
    if (const std::string missing = MissingRuntime(GetParam()); !missing.empty()) {
      const char* required = std::getenv("OSM_CLIENT_TESTS_REQUIRED");
      if (required != nullptr && std::string(required) == "1") {
        FAIL() << "OSM_CLIENT_TESTS_REQUIRED=1 but " << missing;
      }
      GTEST_SKIP() << missing;
    }
    testing::AnswerLikeOsm(upstream_, "req-ok", "req-404");
    adapter_ = testing::StartAdapterProcess(upstream_);
    ASSERT_TRUE(adapter_->started()) << adapter_->Output();
  }

  // Runs the example as its header comment says, with `token` in
  // OSM_AUTH_TOKEN when it is not empty.
  CommandResult Example(const std::string& case_id, const std::string& message_id,
                        const std::string& token = kToken) {
    std::string command = token.empty() ? "env -u OSM_AUTH_TOKEN "
                                        : absl::StrCat("OSM_AUTH_TOKEN=", ShellQuote(token), " ");
    if (GetParam() == Language::kPython) {
      absl::StrAppend(&command, "PYTHONPATH=", ShellQuote(OSM_PYTHON_STUBS_DIR), " ",
                      ShellQuote(OSM_PYTHON), " ",
                      ShellQuote(OSM_SOURCE_DIR "/examples/python/withdraw.py"));
    } else {
      absl::StrAppend(&command, ShellQuote(OSM_NODE), " ",
                      ShellQuote(OSM_SOURCE_DIR "/examples/node/withdraw.js"));
    }
    absl::StrAppend(&command, " ", adapter_->target(), " ", ShellQuote(case_id), " ",
                    ShellQuote(message_id));
    return RunCommand(command);
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterProcess> adapter_;
};

TEST_P(LanguageClientTest, SuccessPrintsOsmsRequestId) {
  const CommandResult result = Example("c1", "m1");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "OK request_id: req-ok\n");
  ASSERT_EQ(upstream_.request_count(), 1);
  const testing::RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.target, "/v2/servicerequest/cases/c1/instant-messages/m1/withdraw");
  EXPECT_EQ(sent.Header("X-Auth-Token"), kToken);
}

TEST_P(LanguageClientTest, ABusinessErrorPrintsTheMappedCodeFromTheStatusDetails) {
  const CommandResult result = Example("missing", "m1");
  EXPECT_EQ(result.exit_code, 5) << result.output;  // NOT_FOUND
  EXPECT_EQ(result.output,
            "code: NOT_FOUND\n"
            "message: The case does not exist.\n"
            "reason: CASE_NOT_FOUND\n"
            "osm_error_code: OSM.01010015\n"
            "request_id: req-404\n");
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_P(LanguageClientTest, AValidationErrorPrintsTheInvalidField) {
  const CommandResult result = Example(std::string(40, 'c'), "m1");
  EXPECT_EQ(result.exit_code, 3) << result.output;  // INVALID_ARGUMENT
  EXPECT_EQ(result.output,
            "code: INVALID_ARGUMENT\n"
            "message: invalid request: case_id must be at most 32 bytes, got 40\n"
            "reason: INVALID_REQUEST\n"
            "invalid field: case_id: must be at most 32 bytes, got 40\n");
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST_P(LanguageClientTest, NoTokenIsUnauthenticated) {
  const CommandResult result = Example("c1", "m1", "");
  EXPECT_EQ(result.exit_code, 16) << result.output;  // UNAUTHENTICATED
  EXPECT_THAT(result.output, HasSubstr("code: UNAUTHENTICATED\n"));
  EXPECT_THAT(result.output, HasSubstr("reason: MISSING_AUTH_TOKEN\n"));
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST_P(LanguageClientTest, TheTokenIsNeverPrinted) {
  for (const char* case_id : {"c1", "missing"}) {
    const CommandResult result = Example(case_id, "m1");
    EXPECT_THAT(result.output, Not(HasSubstr(kToken))) << case_id;
  }
  EXPECT_EQ(upstream_.request_count(), 2);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// The README shows both examples whole, so what a reader copies is what the
// tests above run.
TEST(ReadmeTest, ShowsBothExamplesExactlyAsTested) {
  const std::string readme = ReadFile(OSM_SOURCE_DIR "/README.md");
  const std::string python = ReadFile(OSM_SOURCE_DIR "/examples/python/withdraw.py");
  const std::string node = ReadFile(OSM_SOURCE_DIR "/examples/node/withdraw.js");
  ASSERT_FALSE(python.empty());
  ASSERT_FALSE(node.empty());
  EXPECT_THAT(readme, HasSubstr(absl::StrCat("```python\n", python, "```\n")));
  EXPECT_THAT(readme, HasSubstr(absl::StrCat("```js\n", node, "```\n")));
}

INSTANTIATE_TEST_SUITE_P(Examples, LanguageClientTest,
                         ::testing::Values(Language::kPython, Language::kNode),
                         [](const ::testing::TestParamInfo<Language>& param_info) {
                           return Name(param_info.param);
                         });

}  // namespace
}  // namespace osm
