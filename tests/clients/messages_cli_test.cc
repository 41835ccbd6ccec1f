// osm-messages against a fake MessageService in this process: what each
// subcommand sends, its output (exact JSON with --json) and exit status; a
// watch printed batch by batch, and stopped by Ctrl-C.

#include <google/protobuf/text_format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "osm/client/message_client.h"
#include "osm/client/withdraw_error_details.h"
#include "osm/client/withdraw_json.h"
#include "tests/clients/fake_message_service.h"
#include "tests/support/adapter_process.h"
#include "tests/support/run_command.h"

namespace osm {
namespace {

using ::testing::ElementsAre;
using testing::FakeMessageServer;
using ::testing::HasSubstr;
using testing::ReceivedCall;
using testing::RunCommand;
using ::testing::StartsWith;

constexpr char kToken[] = "messages-cli-token-4e81";

template <typename Message>
Message ParseText(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

class MessagesCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(server_.port(), 0); }

  // osm-messages `args` --json against the fake, with the token.
  testing::CommandResult Cli(const std::string& args) {
    return RunCommand(absl::StrCat(OSM_MESSAGES_BINARY, " ", args,
                                   " --json --target=", server_.target(), " --token=", kToken));
  }

  ReceivedCall OnlyCall() {
    const std::vector<ReceivedCall> calls = server_.service().calls();
    EXPECT_EQ(calls.size(), 1);
    return calls.empty() ? ReceivedCall{} : calls[0];
  }

  FakeMessageServer server_;
};

TEST_F(MessagesCliTest, ListPrintsTheAnswerAsOneLineOfJson) {
  server_.service().SetResponse(ParseText<client::ListMessagesResponse>(
      R"pb(total_count: 31
           messages {
             type: 1
             replier: "e1"
             replier_name: "Support"
             content: "hi \"there\""
             create_time: "2024-01-02T03:04:05Z"
             create_timestamp { seconds: 1704164645 }
             attachments { accessory_id: "a1" file_name: "log.txt" }
           }
           next_offset: 30
           request_id: "req-list")pb"));

  const testing::CommandResult result = Cli("list --case_id=c1 --offset=20 --limit=10");

  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(
      result.output,
      R"({"status":"OK","code":0,"response":{"total_count":31,"messages":[{"message_id":"",)"
      R"("type":1,"replier_type":0,"replier":"e1","replier_name":"Support",)"
      R"("content":"hi \"there\"","create_time":"2024-01-02T03:04:05Z",)"
      R"("is_first_message":false,"iam_user_type":0,)"
      R"("attachments":[{"accessory_id":"a1","file_name":"log.txt"}],)"
      R"("create_timestamp":"2024-01-02T03:04:05Z"}],"next_offset":30,"request_id":"req-list"}})"
      "\n");
  const ReceivedCall call = OnlyCall();
  EXPECT_EQ(call.method, "ListMessages");
  EXPECT_EQ(call.request->DebugString(),
            ParseText<client::ListMessagesRequest>(R"pb(case_id: "c1" offset: 20 limit: 10)pb")
                .DebugString());
  EXPECT_THAT(call.auth_tokens, ElementsAre(kToken));
  // The default deadline: 10 s (grpc-timeout is rounded up on the wire).
  ASSERT_TRUE(call.time_left.has_value());
  EXPECT_GT(*call.time_left, absl::Seconds(5));
  EXPECT_LE(*call.time_left, absl::Seconds(11));
}

// One subcommand: its arguments, and the request they must make.
struct SubcommandCase {
  std::string args;
  std::string method;
  std::string request;  // text format
};

TEST_F(MessagesCliTest, EachSubcommandSendsItsRequestAndPrintsTheAnswer) {
  const std::vector<SubcommandCase> cases = {
      {"send --case_id=c1 --content='hello there' --accessory_ids=a1,a2 --group_id=g1 "
       "--site=international --language=en-us --time_zone=GMT+8",
       "SendMessage",
       R"pb(case_id: "c1"
            content: "hello there"
            accessory_ids: "a1"
            accessory_ids: "a2"
            group_id: "g1"
            site: SITE_INTERNATIONAL
            language: "en-us"
            time_zone: "GMT+8")pb"},
      {"list --case_id=c1 --keep_rich_text --site=china", "ListMessages",
       R"pb(case_id: "c1" keep_rich_text: true site: SITE_CHINA)pb"},
      {"list-more --case_id=c1 --create_time='2024-01-02 03:04:05' --type=1 --limit=5 "
       "--group_id=g1",
       "ListMoreMessages",
       R"pb(case_id: "c1" create_time: "2024-01-02 03:04:05" type: 1 limit: 5 group_id: "g1")pb"},
      {"poll --case_ids=c1,c2 --last_message_time_id=m-17 --keep_rich_text", "PollNewMessages",
       R"pb(case_ids: "c1" case_ids: "c2" last_message_time_id: "m-17" keep_rich_text: true)pb"},
      {"count-unread --case_ids=c1,c2 --group_id=g1", "CountUnreadMessages",
       R"pb(case_ids: "c1" case_ids: "c2" group_id: "g1")pb"},
      {"mark-read --case_id=c1 --language=zh-cn", "MarkMessagesRead", R"pb(case_id: "c1"
                                                                           language: "zh-cn")pb"},
      {"list-case --case_id=c1 --keep_rich_text", "ListCaseMessages",
       R"pb(case_id: "c1" keep_rich_text: true)pb"},
      {"withdraw --case_id=c1 --message_id=m1 --time_zone=GMT+8", "Withdraw",
       R"pb(case_id: "c1" message_id: "m1" time_zone: "GMT+8")pb"},
  };
  const client::SendMessageResponse sent =
      ParseText<client::SendMessageResponse>(R"pb(request_id: "req-send")pb");
  const client::ListMessagesResponse page =
      ParseText<client::ListMessagesResponse>(R"pb(total_count: 1 request_id: "req-list")pb");
  const client::ListMoreMessagesResponse more =
      ParseText<client::ListMoreMessagesResponse>(R"pb(total_count: 2 request_id: "req-more")pb");
  const client::PollNewMessagesResponse news =
      ParseText<client::PollNewMessagesResponse>(R"pb(last_message_time_id: "m-18"
                                                      request_id: "req-poll")pb");
  const client::CountUnreadMessagesResponse counts =
      ParseText<client::CountUnreadMessagesResponse>(R"pb(counts { case_id: "c1" unread_count: 3 }
                                                          request_id: "req-count")pb");
  const client::MarkMessagesReadResponse marked =
      ParseText<client::MarkMessagesReadResponse>(R"pb(request_id: "req-mark")pb");
  const client::ListCaseMessagesResponse case_messages =
      ParseText<client::ListCaseMessagesResponse>(R"pb(messages { message_id: "m1" }
                                                       request_id: "req-case")pb");
  const client::WithdrawResponse withdrawn =
      ParseText<client::WithdrawResponse>(R"pb(http_status: 200 request_id: "req-withdraw")pb");
  const std::vector<const google::protobuf::Message*> answers = {
      &sent, &page, &more, &news, &counts, &marked, &case_messages, &withdrawn};
  for (const google::protobuf::Message* answer : answers) server_.service().SetResponse(*answer);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].args);
    const testing::CommandResult result = Cli(cases[i].args);

    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, client::ResponseToJson(*answers[i]) + "\n");
    const std::vector<ReceivedCall> calls = server_.service().calls();
    ASSERT_EQ(calls.size(), i + 1);
    EXPECT_EQ(calls[i].method, cases[i].method);
    std::unique_ptr<google::protobuf::Message> expected(calls[i].request->New());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(cases[i].request, expected.get()));
    EXPECT_EQ(calls[i].request->DebugString(), expected->DebugString());
    EXPECT_THAT(calls[i].auth_tokens, ElementsAre(kToken));
    EXPECT_TRUE(calls[i].time_left.has_value());
  }
  EXPECT_EQ(client::ResponseToJson(withdrawn),
            R"({"status":"OK","code":0,"response":{"error_code":"","error_msg":"",)"
            R"("http_status":200,"request_id":"req-withdraw"}})");
}

TEST_F(MessagesCliTest, AnErrorIsOneLineOfJsonAndTheExitStatusIsItsCode) {
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::NOT_FOUND);
  details.set_message("The case does not exist.");
  google::rpc::ErrorInfo info;
  info.set_reason("CASE_NOT_FOUND");
  info.set_domain("osm.myhuaweicloud.com");
  (*info.mutable_metadata())["errorCode"] = "OSM.01010015";
  details.add_details()->PackFrom(info);
  huaweicloud::osm::v2::OsmAnswer answer;
  answer.set_error_code("OSM.01010015");
  answer.set_error_msg("The case does not exist.");
  answer.set_http_status(200);
  answer.set_request_id("req-404");
  details.add_details()->PackFrom(answer);
  server_.service().SetError("SendMessage",
                             grpc::Status(grpc::StatusCode::NOT_FOUND, "The case does not exist.",
                                          details.SerializeAsString()));

  const testing::CommandResult result = Cli("send --case_id=missing --content=hi");

  EXPECT_EQ(result.exit_code, 5) << result.output;
  EXPECT_EQ(result.output,
            R"({"status":"NOT_FOUND","code":5,"message":"The case does not exist.",)"
            R"("reason":"CASE_NOT_FOUND","domain":"osm.myhuaweicloud.com",)"
            R"("upstream_error_code":"OSM.01010015","upstream_http_status":200,)"
            R"("request_id":"req-404","details":[)"
            R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CASE_NOT_FOUND",)"
            R"("domain":"osm.myhuaweicloud.com","metadata":{"errorCode":"OSM.01010015"}},)"
            R"({"@type":"type.googleapis.com/huaweicloud.osm.v2.OsmAnswer",)"
            R"("error_code":"OSM.01010015","error_msg":"The case does not exist.",)"
            R"("http_status":200,"request_id":"req-404"}]})"
            "\n");
  EXPECT_EQ(server_.service().call_count("SendMessage"), 1);
}

TEST_F(MessagesCliTest, WithoutJsonPrintsOkAndTheAnswerIndented) {
  server_.service().SetResponse(
      ParseText<client::CountUnreadMessagesResponse>(R"pb(counts { case_id: "c1" unread_count: 3 }
                                                          request_id: "req-count")pb"));

  const testing::CommandResult result = RunCommand(
      absl::StrCat(OSM_MESSAGES_BINARY, " count-unread --case_ids=c1 --target=", server_.target()));

  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, StartsWith("OK\n{\n"));
  EXPECT_THAT(result.output, HasSubstr(R"("request_id": "req-count")"));
  EXPECT_THAT(result.output, HasSubstr(R"("unread_count": 3)"));
}

TEST_F(MessagesCliTest, TheTokenComesFromTheEnvironmentAndIsNeverPrinted) {
  server_.service().SetError("MarkMessagesRead",
                             grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "denied"));

  const testing::CommandResult result =
      RunCommand(absl::StrCat("OSM_AUTH_TOKEN=", kToken, " ", OSM_MESSAGES_BINARY,
                              " mark-read --case_id=c1 --target=", server_.target()));

  EXPECT_EQ(result.exit_code, 7) << result.output;
  EXPECT_EQ(result.output, "status: PERMISSION_DENIED (7)\nmessage: denied\n\n");
  EXPECT_THAT(OnlyCall().auth_tokens, ElementsAre(kToken));
}

// `output` split at each newline; the last element is what follows the last
// one.
std::vector<std::string> Lines(const std::string& output) { return absl::StrSplit(output, '\n'); }

client::WatchNewMessagesResponse Batch(const std::string& marker) {
  client::WatchNewMessagesResponse batch;
  auto* messages = batch.add_cases();
  messages->set_case_id("c1");
  messages->add_messages()->set_content("before " + marker);
  batch.set_last_message_time_id(marker);
  return batch;
}

TEST_F(MessagesCliTest, WatchPrintsEachBatchThenHowTheStreamEnded) {
  server_.service().SetWatch({Batch("m-2"), Batch("m-3")},
                             grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));

  const testing::CommandResult result =
      Cli("watch --case_ids=c1,c2 --last_message_time_id=m-1 --poll_interval=2.5s");

  EXPECT_EQ(result.exit_code, 14) << result.output;
  EXPECT_THAT(
      Lines(result.output),
      ElementsAre(R"({"status":"OK","code":0,"response":{"cases":[{"case_id":"c1","messages":[)"
                  R"({"message_id":"","type":0,"replier_type":0,"replier":"","replier_name":"",)"
                  R"("content":"before m-2","create_time":"","is_first_message":false,)"
                  R"("iam_user_type":0,"attachments":[]}]}],"read_statuses":[],)"
                  R"("last_message_time_id":"m-2","request_id":""}})",
                  client::ResponseToJson(Batch("m-3")),
                  R"({"status":"UNAVAILABLE","code":14,"message":"shutting down"})", ""));
  const ReceivedCall call = OnlyCall();
  EXPECT_EQ(call.request->DebugString(),
            ParseText<client::WatchNewMessagesRequest>(
                R"pb(case_ids: "c1"
                     case_ids: "c2"
                     last_message_time_id: "m-1"
                     poll_interval { seconds: 2 nanos: 500000000 })pb")
                .DebugString());
  // No --timeout: a watch has no deadline.
  EXPECT_EQ(call.time_left, std::nullopt);
}

TEST_F(MessagesCliTest, WatchEndsAtTimeoutWithDeadlineExceeded) {
  server_.service().SetWatch({Batch("m-2")}, std::nullopt);

  const testing::CommandResult result = Cli("watch --case_ids=c1 --timeout=500ms");

  EXPECT_EQ(result.exit_code, 4) << result.output;
  EXPECT_THAT(Lines(result.output),
              ElementsAre(client::ResponseToJson(Batch("m-2")),
                          StartsWith(R"({"status":"DEADLINE_EXCEEDED","code":4,)"), ""));
}

// Reads from `fd` into `output` until `text` has arrived (or, when `text`
// is empty, until end of file); false at end of file or after 30 s without
// output.
bool ReadUntil(int fd, const std::string& text, std::string& output) {
  while (text.empty() || output.find(text) == std::string::npos) {
    pollfd readable{fd, POLLIN, 0};
    if (poll(&readable, 1, 30'000) != 1) return false;
    char buffer[4096];
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0) return false;
    if (got == 0) return text.empty();
    output.append(buffer, static_cast<std::size_t>(got));
  }
  return true;
}

TEST_F(MessagesCliTest, CtrlCStopsAWatchCleanly) {
  server_.service().SetWatch({Batch("m-2")}, std::nullopt);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  // Standard output and error both into the pipe.
  const pid_t pid = testing::SpawnChild(
      {"/bin/sh", "-c", "exec \"$0\" \"$@\" >&2", OSM_MESSAGES_BINARY, "watch", "--case_ids=c1",
       "--json", "--target=" + server_.target(), absl::StrCat("--token=", kToken)},
      {}, pipe_fds[1]);
  close(pipe_fds[1]);
  ASSERT_GT(pid, 0);
  std::string output;

  const std::string first_line = client::ResponseToJson(Batch("m-2")) + "\n";
  const bool printed = ReadUntil(pipe_fds[0], first_line, output);
  kill(pid, SIGINT);
  const bool ended = ReadUntil(pipe_fds[0], "", output);
  close(pipe_fds[0]);
  if (!ended) kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);

  EXPECT_TRUE(printed) << output;
  EXPECT_TRUE(ended) << "still running 30 s after SIGINT";
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_EQ(output, first_line);
  EXPECT_TRUE(server_.service().WaitForWatchCancelled(absl::Seconds(30)));
}

TEST_F(MessagesCliTest, UsageErrorsExitWith64) {
  for (const std::string args :
       {"", "frobnicate", "list", "list --case_id=c1 --content=x", "list --case_id=c1 extra",
        "send --case_id=c1", "poll", "withdraw --case_id=c1", "list --case_id=c1 --site=mars",
        "list --case_id=c1 --tls_cert_file=/dev/null"}) {
    SCOPED_TRACE(args);
    const testing::CommandResult result = Cli(args);
    EXPECT_EQ(result.exit_code, 64) << result.output;
    EXPECT_THAT(result.output, StartsWith("osm-messages: "));
  }
  EXPECT_THAT(server_.service().calls(), ::testing::IsEmpty());
}

TEST_F(MessagesCliTest, HelpListsTheSubcommandsAndEachSubcommandsFlags) {
  const testing::CommandResult overview = RunCommand(absl::StrCat(OSM_MESSAGES_BINARY, " --help"));
  EXPECT_EQ(overview.exit_code, 0);
  for (const char* name : {"send", "list", "list-more", "poll", "count-unread", "mark-read",
                           "list-case", "withdraw", "watch"}) {
    EXPECT_THAT(overview.output, HasSubstr(absl::StrCat("\n  ", name, " ")));
  }
  EXPECT_THAT(overview.output, HasSubstr("--target"));
  EXPECT_THAT(overview.output, ::testing::Not(HasSubstr("--content")));

  const testing::CommandResult send = RunCommand(absl::StrCat(OSM_MESSAGES_BINARY, " send --help"));
  EXPECT_EQ(send.exit_code, 0);
  EXPECT_THAT(send.output, StartsWith("osm-messages send: SendMessage"));
  EXPECT_THAT(send.output, HasSubstr("Required: --case_id, --content\n"));
  EXPECT_THAT(send.output, HasSubstr("--accessory_ids ("));
  EXPECT_THAT(send.output, HasSubstr("--token ("));
  EXPECT_THAT(send.output, ::testing::Not(HasSubstr("--case_ids (")));
}

}  // namespace
}  // namespace osm
