// The examples in other languages against the real osm-adapter binary and a
// scripted upstream: Withdraw in Python and Node (examples/python/withdraw.py,
// examples/node/withdraw.js), listing and watching a case's messages in
// Python, Node and Go (list_messages.py, watch.py, list_messages.js,
// watch.js, examples/go). Each runs as a user runs it; the test checks what it
// prints, its exit status (the gRPC code) and what reached the upstream.
//
// Without their runtimes (python3-grpcio, examples/node/node_modules, or the
// Go example, which CMake builds when Debian's Go toolchain and grpc-go are
// installed) the tests are skipped; with OSM_CLIENT_TESTS_REQUIRED=1 in the
// environment (scripts/test.sh and scripts/ci-clients.sh set it) they fail
// instead.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

// What every example prints for OSM's "case not found" (HTTP 200,
// OSM.01010015, X-Request-Id: req-404).
constexpr char kCaseNotFoundOutput[] =
    "code: NOT_FOUND\n"
    "message: The case does not exist.\n"
    "reason: CASE_NOT_FOUND\n"
    "osm_error_code: OSM.01010015\n"
    "request_id: req-404\n";

enum class Language { kPython, kNode, kGo };

std::string Name(Language language) {
  switch (language) {
    case Language::kPython:
      return "Python";
    case Language::kNode:
      return "Node";
    case Language::kGo:
      return "Go";
  }
  return "";
}

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
  if (language == Language::kGo) {
    if (std::string(OSM_GO_EXAMPLE).empty() || !Exists(OSM_GO_EXAMPLE)) {
      return "the Go example was not built (go, protoc-gen-go or protoc-gen-go-grpc missing at "
             "configure time: scripts/install-deps.sh test)";
    }
    return "";
  }
  if (std::string(OSM_NODE).empty() || !Exists(OSM_NODE)) return "node not found";
  if (!Exists(OSM_SOURCE_DIR "/examples/node/node_modules/@grpc/grpc-js/package.json")) {
    return "examples/node/node_modules is missing (run npm ci in examples/node)";
  }
  return "";
}

// Marks the test skipped when `language` cannot run here, or failed instead
// under OSM_CLIENT_TESTS_REQUIRED=1; the caller returns when it did.
void RequireRuntime(Language language) {
  if (language == Language::kGo && !std::string(OSM_GO_EXAMPLE_NOT_BUILT).empty()) {
    GTEST_SKIP() << OSM_GO_EXAMPLE_NOT_BUILT;  // on purpose, whatever is required
  }
  const std::string missing = MissingRuntime(language);
  if (missing.empty()) return;
  const char* required = std::getenv("OSM_CLIENT_TESTS_REQUIRED");
  if (required != nullptr && std::string(required) == "1") {
    FAIL() << "OSM_CLIENT_TESTS_REQUIRED=1 but " << missing;
  }
  GTEST_SKIP() << missing;
}

class LanguageClientTest : public ::testing::TestWithParam<Language> {
 protected:
  void SetUp() override {
    RequireRuntime(GetParam());
    if (IsSkipped() || HasFailure()) return;
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
  EXPECT_EQ(result.output, kCaseNotFoundOutput);
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

// A ticket "c1" with three messages, as OSM keeps it, and OSM's polling API
// over the cases c1 and c2: the first poll finds two new messages, the next
// one a third, every later one nothing new. The case id "missing" is unknown
// to every operation. Each answer's X-Request-Id names it.
struct TicketMessage {
  const char* message_id;
  int type;  // 0 customer, 1 support
  const char* create_time;
  const char* content;
};
constexpr TicketMessage kTicket[] = {
    {"M1001", 0, "2026-11-30T08:00:00Z", "The instance does not start after the resize."},
    {"M1002", 1, "2026-11-30T08:05:00Z", "Which region is it in?"},
    {"M1003", 0, "2026-11-30T08:07:00Z", "ap-southeast-3."},
};
constexpr char kFirstMarker[] = "1796070430144";
constexpr char kSecondMarker[] = "1796070431150";

std::string MessageJson(const TicketMessage& message, bool with_id) {
  return absl::StrCat(
      "{", with_id ? absl::StrCat(R"("message_id":")", message.message_id, "\",") : std::string(),
      R"("type":)", message.type, R"(,"replier_name":")",
      message.type == 1 ? "Huawei Cloud Support" : "customer-01", R"(","content":")",
      message.content, R"(","create_time":")", message.create_time, R"("})");
}

// The value of `name` in the query of `target`, if it is there.
std::optional<std::string> QueryValue(absl::string_view target, absl::string_view name) {
  const std::size_t question = target.find('?');
  if (question == absl::string_view::npos) return std::nullopt;
  for (absl::string_view pair : absl::StrSplit(target.substr(question + 1), '&')) {
    if (absl::ConsumePrefix(&pair, name) && absl::ConsumePrefix(&pair, "=")) {
      return std::string(pair);
    }
  }
  return std::nullopt;
}

void AnswerLikeOsmMessageGroup(ScriptedUpstream& upstream) {
  auto polls = std::make_shared<std::atomic<int>>(0);
  upstream.SetHandler([polls](testing::UpstreamExchange& exchange) {
    const std::string& target = exchange.request().target;
    const absl::string_view path = absl::string_view(target).substr(0, target.find('?'));
    if (absl::StrContains(target, "missing")) {
      exchange.Respond(200, testing::kCaseNotFoundBody, {{"X-Request-Id", "req-404"}});
    } else if (path == "/v2/servicerequest/cases/c1") {  // ShowCaseDetail
      std::string list;
      for (const TicketMessage& message : kTicket) {
        absl::StrAppend(&list, list.empty() ? "" : ",", MessageJson(message, true));
      }
      exchange.Respond(200,
                       absl::StrCat(R"({"incident_detail_info":{"incident_id":"c1",)",
                                    R"("simple_description":"ECS does not start","status":1,)",
                                    R"("message_list":[)", list, "]}}"),
                       {{"X-Request-Id", "req-detail"}});
    } else if (path == "/v2/servicerequest/cases/c1/messages") {  // ListMessages
      int offset = 0;
      int limit = 10;
      if (auto value = QueryValue(target, "offset")) (void)absl::SimpleAtoi(*value, &offset);
      if (auto value = QueryValue(target, "limit")) (void)absl::SimpleAtoi(*value, &limit);
      const int count = static_cast<int>(std::size(kTicket));
      std::string list;
      for (int i = offset; i < std::min(count, offset + limit); ++i) {
        absl::StrAppend(&list, list.empty() ? "" : ",", MessageJson(kTicket[i], false));
      }
      exchange.Respond(200, absl::StrCat(R"({"count":)", count, R"(,"message_list":[)", list, "]}"),
                       {{"X-Request-Id", absl::StrCat("req-page-", offset)}});
    } else if (path == "/v2/servicerequest/cases/instant-messages") {  // ListNewInstantMessages
      const int poll = (*polls)++;
      const std::string statuses =
          R"("imstatus":[{"incident_id":"c1","status":0},{"incident_id":"c2","status":0}])";
      std::string news;
      if (poll == 0) {
        news = absl::StrCat(
            R"([{"incident_id":"c1","message_list":[)",
            MessageJson({"", 1, "2026-11-30T08:10:00Z", "Please restart it from the console."},
                        false),
            R"(]},{"incident_id":"c2","message_list":[)",
            MessageJson({"", 0, "2026-11-30T08:11:00Z", "Is the new quota active?"}, false), "]}]");
      } else if (poll == 1) {
        news = absl::StrCat(
            R"([{"incident_id":"c2","message_list":[)",
            MessageJson({"", 1, "2026-11-30T08:12:30Z", "Yes, since 08:12."}, false), "]}]");
      } else {
        news = "[]";
      }
      exchange.Respond(
          200,
          absl::StrCat("{", statuses, R"(,"immsg":)", news, R"(,"last_message_time_id":")",
                       poll == 0 ? kFirstMarker : kSecondMarker, R"("})"),
          {{"X-Request-Id", absl::StrCat("req-poll-", poll)}});
    } else {
      exchange.Respond(404, R"({"error_code":"APIGW.0101","error_msg":"not published"})");
    }
  });
}

// What the watch examples print for the two batches above.
constexpr char kWatchedBatches[] =
    "c1 [support 2026-11-30T08:10:00Z] Please restart it from the console.\n"
    "c2 [customer 2026-11-30T08:11:00Z] Is the new quota active?\n"
    "last_message_time_id: 1796070430144\n"
    "c2 [support 2026-11-30T08:12:30Z] Yes, since 08:12.\n"
    "last_message_time_id: 1796070431150\n";

// list and watch (examples/python/list_messages.py and watch.py,
// examples/node/list_messages.js and watch.js, examples/go's list and watch)
// against an adapter that polls every 100 ms and ends watches at once on
// SIGTERM.
class MessageExampleTest : public ::testing::TestWithParam<Language> {
 protected:
  void SetUp() override {
    RequireRuntime(GetParam());
    if (IsSkipped() || HasFailure()) return;
    AnswerLikeOsmMessageGroup(upstream_);
    adapter_ = std::make_unique<AdapterProcess>(std::vector<std::string>{
        absl::StrCat("--upstream=", upstream_.base_url()), "--watch_interval=100ms",
        "--min_watch_interval=100ms", "--shutdown_delay=0s", "--access_log=off"});
    ASSERT_TRUE(adapter_->started()) << adapter_->Output();
  }

  // Runs example `kind` ("list" or "watch") as its header comment says, with
  // kToken in OSM_AUTH_TOKEN and `args` after the adapter's address.
  CommandResult Example(const std::string& kind, const std::vector<std::string>& args) {
    std::string command = absl::StrCat("OSM_AUTH_TOKEN=", ShellQuote(kToken), " ");
    const std::string script = kind == "list" ? "list_messages" : kind;
    switch (GetParam()) {
      case Language::kPython:
        absl::StrAppend(
            &command, "PYTHONPATH=", ShellQuote(OSM_PYTHON_STUBS_DIR), " ", ShellQuote(OSM_PYTHON),
            " ", ShellQuote(absl::StrCat(OSM_SOURCE_DIR "/examples/python/", script, ".py")));
        break;
      case Language::kNode:
        absl::StrAppend(&command, ShellQuote(OSM_NODE), " ",
                        ShellQuote(absl::StrCat(OSM_SOURCE_DIR "/examples/node/", script, ".js")));
        break;
      case Language::kGo:
        absl::StrAppend(&command, ShellQuote(OSM_GO_EXAMPLE), " ", kind);
        break;
    }
    absl::StrAppend(&command, " ", adapter_->target());
    for (const std::string& arg : args) absl::StrAppend(&command, " ", ShellQuote(arg));
    return RunCommand(command);
  }

  std::vector<std::string> Targets() const {
    std::vector<std::string> targets;
    for (const testing::RecordedRequest& request : upstream_.requests()) {
      EXPECT_EQ(request.Header("X-Auth-Token"), kToken) << request.target;
      targets.push_back(request.target);
    }
    return targets;
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterProcess> adapter_;
};

TEST_P(MessageExampleTest, ListPrintsEachMessageWithItsIdThenEveryPage) {
  const CommandResult result = Example("list", {"c1", "2"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output,
            "ListCaseMessages c1: 3 messages, request_id req-detail\n"
            "  M1001 [customer 2026-11-30T08:00:00Z] The instance does not start after the "
            "resize.\n"
            "  M1002 [support 2026-11-30T08:05:00Z] Which region is it in?\n"
            "  M1003 [customer 2026-11-30T08:07:00Z] ap-southeast-3.\n"
            "ListMessages c1 offset 0: 2 of 3, next_offset 2\n"
            "  [customer 2026-11-30T08:00:00Z] The instance does not start after the resize.\n"
            "  [support 2026-11-30T08:05:00Z] Which region is it in?\n"
            "ListMessages c1 offset 2: 1 of 3, next_offset 0\n"
            "  [customer 2026-11-30T08:07:00Z] ap-southeast-3.\n");
  EXPECT_THAT(Targets(), ::testing::ElementsAre("/v2/servicerequest/cases/c1",
                                                "/v2/servicerequest/cases/c1/messages?limit=2",
                                                "/v2/servicerequest/cases/c1/messages?offset=2"
                                                "&limit=2"));
}

TEST_P(MessageExampleTest, ListOfAnUnknownCasePrintsTheMappedCodeFromTheStatusDetails) {
  const CommandResult result = Example("list", {"missing"});
  EXPECT_EQ(result.exit_code, 5) << result.output;  // NOT_FOUND
  EXPECT_EQ(result.output, kCaseNotFoundOutput);
  EXPECT_THAT(Targets(), ::testing::ElementsAre("/v2/servicerequest/cases/missing"));
}

// The adapter shuts down (SIGTERM) after the two batches have been polled:
// the watch ends with UNAVAILABLE SHUTTING_DOWN and the example prints the
// marker to resume from.
TEST_P(MessageExampleTest, WatchPrintsEachBatchThenTheMarkerToResumeFromOnShutdown) {
  CommandResult result;
  std::thread watch([&] { result = Example("watch", {"c1,c2", "1796070420000"}); });
  // The third poll starts once the second batch has been written.
  const bool polled = upstream_.WaitForRequests(3, absl::Seconds(30));
  adapter_->Signal(SIGTERM);
  watch.join();
  ASSERT_TRUE(polled) << result.output << adapter_->Output();
  EXPECT_EQ(result.exit_code, 14) << result.output;  // UNAVAILABLE
  EXPECT_EQ(result.output,
            absl::StrCat(kWatchedBatches,
                         "code: UNAVAILABLE\n"
                         "message: the adapter is shutting down; resume the watch from the last "
                         "last_message_time_id on another replica\n"
                         "reason: SHUTTING_DOWN\n"
                         "resume_from: 1796070431150\n"));
  const std::vector<std::string> targets = Targets();
  ASSERT_GE(targets.size(), 3u);
  EXPECT_EQ(targets[0],
            "/v2/servicerequest/cases/instant-messages?case_ids=c1,c2"
            "&last_message_time_id=1796070420000");
  for (std::size_t i = 1; i < targets.size(); ++i) {
    EXPECT_EQ(targets[i], absl::StrCat("/v2/servicerequest/cases/instant-messages?case_ids=c1,c2"
                                       "&last_message_time_id=",
                                       i == 1 ? kFirstMarker : kSecondMarker));
  }
  const std::optional<int> exit = adapter_->WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << adapter_->Output();
}

// SECONDS on the command line: the watch ends at that deadline, and the
// example prints the marker to resume from (the message is each gRPC
// library's own).
TEST_P(MessageExampleTest, WatchForSomeSecondsPrintsTheMarkerToResumeFrom) {
  const CommandResult result = Example("watch", {"c1,c2", "", "2.5"});
  EXPECT_EQ(result.exit_code, 4) << result.output;  // DEADLINE_EXCEEDED
  EXPECT_TRUE(
      absl::StartsWith(result.output, absl::StrCat(kWatchedBatches, "code: DEADLINE_EXCEEDED\n")))
      << result.output;
  EXPECT_TRUE(absl::EndsWith(result.output, "\nresume_from: 1796070431150\n")) << result.output;
  const std::vector<std::string> targets = Targets();
  ASSERT_GE(targets.size(), 3u);
  // No marker given: the first poll sends none.
  EXPECT_EQ(targets[0], "/v2/servicerequest/cases/instant-messages?case_ids=c1,c2");
}

// A poll that fails for good ends the watch with OSM's error: no marker to
// resume from, since resuming would fail the same way.
TEST_P(MessageExampleTest, WatchOfAnUnknownCaseEndsWithTheMappedCode) {
  const CommandResult result = Example("watch", {"c1,missing"});
  EXPECT_EQ(result.exit_code, 5) << result.output;  // NOT_FOUND
  EXPECT_EQ(result.output, kCaseNotFoundOutput);
  EXPECT_THAT(Targets(), ::testing::ElementsAre(
                             "/v2/servicerequest/cases/instant-messages?case_ids=c1,missing"));
}

TEST_P(MessageExampleTest, TheTokenIsNeverPrinted) {
  for (const char* kind : {"list", "watch"}) {
    const CommandResult result = Example(kind, {"missing"});
    EXPECT_THAT(result.output, Not(HasSubstr(kToken))) << kind;
  }
  EXPECT_EQ(upstream_.request_count(), 2);
}

INSTANTIATE_TEST_SUITE_P(Examples, MessageExampleTest,
                         ::testing::Values(Language::kPython, Language::kNode, Language::kGo),
                         [](const ::testing::TestParamInfo<Language>& param_info) {
                           return Name(param_info.param);
                         });

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
