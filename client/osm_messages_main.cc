// osm-messages: the operations of MessageService (OSM's message group) from
// the command line, one subcommand per RPC.
//
// Exit status: 0 when the call is OK (and when the user stops a watch with
// Ctrl-C), the gRPC status code (1-16) when it is not, 64 for a usage error.
// --json prints each outcome, and each batch of a watch, as one line of JSON.

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli_common.h"
#include "google/protobuf/util/time_util.h"
#include "osm/client/message_client.h"
#include "osm/client/withdraw_json.h"
#include "server/base/flags_help.h"

// The connection, token, language, time zone and --json flags are in
// client/cli_common.cc.
ABSL_FLAG(std::optional<absl::Duration>, timeout, std::nullopt,
          "deadline: of the call (default 10s), or of the whole watch (default: none, until "
          "Ctrl-C)");
ABSL_FLAG(std::string, site, "",
          "X-Site for OSM: china or international (default: not sent, OSM takes china)");
ABSL_FLAG(std::string, case_id, "", "case (service ticket) id");
ABSL_FLAG(std::vector<std::string>, case_ids, {}, "case ids, comma-separated (1 to 100)");
ABSL_FLAG(std::string, message_id, "", "id of the message to withdraw (list-case shows them)");
ABSL_FLAG(std::string, content, "", "the message's text");
ABSL_FLAG(std::vector<std::string>, accessory_ids, {},
          "attachment ids from OSM's attachment upload, comma-separated (at most 10)");
ABSL_FLAG(std::string, group_id, "", "IAM group id, for another user's case of the same group");
ABSL_FLAG(int, offset, 0, "messages to skip (a page's next_offset)");
ABSL_FLAG(int, limit, 0, "messages to return, 1 to 100 (list: 0 for OSM's default of 10)");
ABSL_FLAG(std::string, create_time, "",
          "the cursor: create_time of the last message already shown, as OSM sent it");
ABSL_FLAG(int, type, 0, "the cursor's message type: 0 customer, 1 support");
ABSL_FLAG(std::string, last_message_time_id, "",
          "the marker of the previous answer or batch (its last_message_time_id)");
ABSL_FLAG(absl::Duration, poll_interval, absl::ZeroDuration(),
          "time between the adapter's polls (0: the adapter's --watch_interval)");
ABSL_FLAG(bool, keep_rich_text, false, "keep OSM's rich-text markup in the contents");

namespace {

using osm::client::MessageClient;
using osm::client::cli::kUsageError;

constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);

// The flags of every subcommand, listed last in its --help.
constexpr absl::string_view kCommonFlags[] = {"target",        "language",     "time_zone",
                                              "timeout",       "token",        "tls_ca_file",
                                              "tls_cert_file", "tls_key_file", "json"};

// The flags that belong to some subcommands only.
constexpr absl::string_view kOwnFlags[] = {
    "site",          "case_id",       "case_ids", "message_id",  "content", "accessory_ids",
    "group_id",      "offset",        "limit",    "create_time", "type",    "last_message_time_id",
    "poll_interval", "keep_rich_text"};

struct Subcommand {
  absl::string_view name;
  absl::string_view summary;
  absl::string_view usage;
  // Its own flags, in --help order; `required` must be set.
  std::vector<absl::string_view> flags;
  std::vector<absl::string_view> required;
  int (*run)(const MessageClient& client, absl::Time deadline);
};

template <typename Request>
void SetCommonFields(Request& request) {
  request.set_language(absl::GetFlag(FLAGS_language));
  request.set_time_zone(absl::GetFlag(FLAGS_time_zone));
}

// Every request but Withdraw's carries X-Site and the group id.
template <typename Request>
void SetSiteAndGroup(Request& request) {
  SetCommonFields(request);
  const std::string site = absl::GetFlag(FLAGS_site);
  if (site == "china") request.set_site(huaweicloud::osm::v2::SITE_CHINA);
  if (site == "international") request.set_site(huaweicloud::osm::v2::SITE_INTERNATIONAL);
  request.set_group_id(absl::GetFlag(FLAGS_group_id));
}

// Prints the outcome of a unary call; its exit status.
template <typename Response>
int Report(const absl::StatusOr<Response>& result) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << (result.ok() ? osm::client::ResponseToJson(*result)
                              : osm::client::ErrorStatusToJson(result.status()))
              << "\n";
  } else {
    osm::client::cli::PrintResult(result, std::cout);
  }
  return static_cast<int>(result.status().code());
}

int RunSend(const MessageClient& client, absl::Time deadline) {
  osm::client::SendMessageRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_content(absl::GetFlag(FLAGS_content));
  for (const std::string& id : absl::GetFlag(FLAGS_accessory_ids)) request.add_accessory_ids(id);
  SetSiteAndGroup(request);
  return Report(client.SendMessage(request, deadline));
}

int RunList(const MessageClient& client, absl::Time deadline) {
  osm::client::ListMessagesRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_offset(absl::GetFlag(FLAGS_offset));
  request.set_limit(absl::GetFlag(FLAGS_limit));
  request.set_keep_rich_text(absl::GetFlag(FLAGS_keep_rich_text));
  SetSiteAndGroup(request);
  return Report(client.ListMessages(request, deadline));
}

int RunListMore(const MessageClient& client, absl::Time deadline) {
  osm::client::ListMoreMessagesRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_create_time(absl::GetFlag(FLAGS_create_time));
  request.set_type(absl::GetFlag(FLAGS_type));
  request.set_limit(absl::GetFlag(FLAGS_limit));
  request.set_keep_rich_text(absl::GetFlag(FLAGS_keep_rich_text));
  SetSiteAndGroup(request);
  return Report(client.ListMoreMessages(request, deadline));
}

int RunPoll(const MessageClient& client, absl::Time deadline) {
  osm::client::PollNewMessagesRequest request;
  for (const std::string& id : absl::GetFlag(FLAGS_case_ids)) request.add_case_ids(id);
  request.set_last_message_time_id(absl::GetFlag(FLAGS_last_message_time_id));
  request.set_keep_rich_text(absl::GetFlag(FLAGS_keep_rich_text));
  SetSiteAndGroup(request);
  return Report(client.PollNewMessages(request, deadline));
}

int RunCountUnread(const MessageClient& client, absl::Time deadline) {
  osm::client::CountUnreadMessagesRequest request;
  for (const std::string& id : absl::GetFlag(FLAGS_case_ids)) request.add_case_ids(id);
  SetSiteAndGroup(request);
  return Report(client.CountUnreadMessages(request, deadline));
}

int RunMarkRead(const MessageClient& client, absl::Time deadline) {
  osm::client::MarkMessagesReadRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  SetSiteAndGroup(request);
  return Report(client.MarkMessagesRead(request, deadline));
}

int RunListCase(const MessageClient& client, absl::Time deadline) {
  osm::client::ListCaseMessagesRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_keep_rich_text(absl::GetFlag(FLAGS_keep_rich_text));
  SetSiteAndGroup(request);
  return Report(client.ListCaseMessages(request, deadline));
}

int RunWithdraw(const MessageClient& client, absl::Time deadline) {
  osm::client::WithdrawRequest request;
  request.set_case_id(absl::GetFlag(FLAGS_case_id));
  request.set_message_id(absl::GetFlag(FLAGS_message_id));
  SetCommonFields(request);
  return Report(client.Withdraw(request, deadline));
}

// The signals that stop a watch. main() blocks them in every thread before
// gRPC starts any, so that only WatchUntilInterrupted's waiter receives
// them.
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

int RunWatch(const MessageClient& client, absl::Time deadline) {
  osm::client::WatchNewMessagesRequest request;
  for (const std::string& id : absl::GetFlag(FLAGS_case_ids)) request.add_case_ids(id);
  request.set_last_message_time_id(absl::GetFlag(FLAGS_last_message_time_id));
  if (const absl::Duration interval = absl::GetFlag(FLAGS_poll_interval);
      interval != absl::ZeroDuration()) {
    *request.mutable_poll_interval() =
        google::protobuf::util::TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(interval));
  }
  request.set_keep_rich_text(absl::GetFlag(FLAGS_keep_rich_text));
  SetSiteAndGroup(request);

  // A waiter thread turns the user's Ctrl-C (or SIGTERM) into a
  // cancellation; when the watch ends by itself, a signal sent to the waiter
  // alone wakes it.
  osm::client::WatchCanceller canceller;
  std::atomic<bool> finished{false};
  std::atomic<bool> interrupted{false};
  std::thread waiter([&] {
    const sigset_t signals = StopSignals();
    int signal = 0;
    sigwait(&signals, &signal);
    if (!finished.load()) {
      interrupted.store(true);
      canceller.Cancel();
    }
  });
  const bool json = absl::GetFlag(FLAGS_json);
  const absl::Status end = client.WatchNewMessages(
      request, deadline,
      [json](const osm::client::WatchNewMessagesResponse& batch) {
        std::cout << (json ? osm::client::ResponseToJson(batch)
                           : osm::client::cli::PrettyJson(batch))
                  << std::endl;
      },
      &canceller);
  finished.store(true);
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();

  if (end.ok() || (interrupted.load() && end.code() == absl::StatusCode::kCancelled)) return 0;
  if (json) {
    std::cout << osm::client::ErrorStatusToJson(end) << "\n";
  } else {
    osm::client::cli::PrintError(end, std::cout);
  }
  return static_cast<int>(end.code());
}

const std::vector<Subcommand>& Subcommands() {
  static const auto* const kSubcommands = new std::vector<Subcommand>{
      {"send",
       "SendMessage: adds a message to a case (never retried)",
       "osm-messages send --case_id=ID --content=TEXT [--accessory_ids=A,B] [flags]",
       {"case_id", "content", "accessory_ids", "group_id", "site"},
       {"case_id", "content"},
       RunSend},
      {"list",
       "ListMessages: one page of a case's messages, by offset",
       "osm-messages list --case_id=ID [--offset=N] [--limit=N] [flags]",
       {"case_id", "offset", "limit", "group_id", "keep_rich_text", "site"},
       {"case_id"},
       RunList},
      {"list-more",
       "ListMoreMessages: the messages after a cursor (create_time and type)",
       "osm-messages list-more --case_id=ID --create_time=TIME --type=0|1 --limit=N [flags]",
       {"case_id", "create_time", "type", "limit", "group_id", "keep_rich_text", "site"},
       {"case_id", "create_time"},
       RunListMore},
      {"poll",
       "PollNewMessages: the new messages of some cases since a marker, once",
       "osm-messages poll --case_ids=ID,ID [--last_message_time_id=MARKER] [flags]",
       {"case_ids", "last_message_time_id", "group_id", "keep_rich_text", "site"},
       {"case_ids"},
       RunPoll},
      {"count-unread",
       "CountUnreadMessages: how many unread messages some cases have",
       "osm-messages count-unread --case_ids=ID,ID [flags]",
       {"case_ids", "group_id", "site"},
       {"case_ids"},
       RunCountUnread},
      {"mark-read",
       "MarkMessagesRead: marks every message of a case read",
       "osm-messages mark-read --case_id=ID [flags]",
       {"case_id", "group_id", "site"},
       {"case_id"},
       RunMarkRead},
      {"list-case",
       "ListCaseMessages: every message of a case, with its message_id",
       "osm-messages list-case --case_id=ID [flags]",
       {"case_id", "group_id", "keep_rich_text", "site"},
       {"case_id"},
       RunListCase},
      {"withdraw",
       "Withdraw: recalls a message",
       "osm-messages withdraw --case_id=ID --message_id=ID [flags]",
       {"case_id", "message_id"},
       {"case_id", "message_id"},
       RunWithdraw},
      {"watch",
       "WatchNewMessages: prints each batch of new messages as it arrives, until --timeout "
       "or Ctrl-C",
       "osm-messages watch --case_ids=ID,ID [--last_message_time_id=MARKER] "
       "[--poll_interval=5s] [flags]",
       {"case_ids", "last_message_time_id", "poll_interval", "group_id", "keep_rich_text", "site"},
       {"case_ids"},
       RunWatch},
  };
  return *kSubcommands;
}

const Subcommand* FindSubcommand(absl::string_view name) {
  for (const Subcommand& subcommand : Subcommands()) {
    if (subcommand.name == name) return &subcommand;
  }
  return nullptr;
}

constexpr char kEnding[] =
    "The IAM token comes from --token or the environment variable OSM_AUTH_TOKEN.\n"
    "--json prints each answer, each batch of a watch and each error as one line of JSON:\n"
    "{\"status\":\"OK\",\"code\":0,\"response\":{...}} or {\"status\":CODE,\"code\":N,"
    "\"message\":...,\"reason\":...,\"details\":[...]}.\n"
    "Exit status: 0 if OK (and for a watch stopped with Ctrl-C), else the gRPC status code "
    "(1-16); 64 for usage errors.";

std::string OverviewUsage() {
  std::string usage =
      "osm-messages: calls the operations of huaweicloud.osm.v2.MessageService (OSM's message "
      "group) through the adapter.\n"
      "Usage: osm-messages SUBCOMMAND [--target=HOST:PORT] [--json] [flags]\n"
      "       osm-messages SUBCOMMAND --help   (its flags)\n"
      "Subcommands:\n";
  for (const Subcommand& subcommand : Subcommands()) {
    absl::StrAppend(&usage, "  ", subcommand.name, std::string(14 - subcommand.name.size(), ' '),
                    subcommand.summary, "\n");
  }
  absl::StrAppend(&usage, kEnding);
  return usage;
}

std::string SubcommandUsage(const Subcommand& subcommand) {
  return absl::StrCat("osm-messages ", subcommand.name, ": ", subcommand.summary, ".\n",
                      "Usage: ", subcommand.usage, "\n", "Required: --",
                      absl::StrJoin(subcommand.required, ", --"), "\n", kEnding);
}

// --help, for the subcommand named among the arguments, or the overview.
bool HandleHelp(int argc, char** argv) {
  const Subcommand* subcommand = nullptr;
  for (int i = 1; i < argc && subcommand == nullptr; ++i) subcommand = FindSubcommand(argv[i]);
  if (subcommand == nullptr) {
    return osm::HandleHelpFlag(argc, argv, OverviewUsage(), kCommonFlags, std::cout);
  }
  std::vector<absl::string_view> flags = subcommand->flags;
  flags.insert(flags.end(), std::begin(kCommonFlags), std::end(kCommonFlags));
  return osm::HandleHelpFlag(argc, argv, SubcommandUsage(*subcommand), flags, std::cout);
}

// What is wrong with the flags for `subcommand`: a required one missing, or
// one of another subcommand set. Empty when nothing is.
std::string FlagProblem(const Subcommand& subcommand) {
  for (const absl::string_view name : kOwnFlags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    const bool mine =
        std::find(subcommand.flags.begin(), subcommand.flags.end(), name) != subcommand.flags.end();
    if (!mine && flag->CurrentValue() != flag->DefaultValue()) {
      return absl::StrCat("--", name, " does not apply to ", subcommand.name);
    }
  }
  for (const absl::string_view name : subcommand.required) {
    if (absl::FindCommandLineFlag(name)->CurrentValue().empty()) {
      return absl::StrCat(subcommand.name, " requires --", name);
    }
  }
  const std::string site = absl::GetFlag(FLAGS_site);
  if (!site.empty() && site != "china" && site != "international") {
    return absl::StrCat("--site is china or international, not \"", site, "\"");
  }
  return "";
}

int UsageError(absl::string_view problem) {
  std::cerr << "osm-messages: " << problem << " (see --help)\n";
  return kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  if (HandleHelp(argc, argv)) return 0;
  absl::SetProgramUsageMessage("osm-messages SUBCOMMAND [flags]; osm-messages --help");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] {
    return std::string("osm-messages " OSM_ADAPTER_VERSION "\n");
  };
  absl::SetFlagsUsageConfig(usage_config);
  const std::vector<char*> arguments = absl::ParseCommandLine(argc, argv);

  if (arguments.size() < 2) return UsageError("a subcommand is required");
  const Subcommand* subcommand = FindSubcommand(arguments[1]);
  if (subcommand == nullptr) {
    return UsageError(absl::StrCat("unknown subcommand \"", arguments[1], "\""));
  }
  if (arguments.size() > 2) {
    return UsageError(absl::StrCat("unexpected argument \"", arguments[2], "\""));
  }
  if (const std::string problem = FlagProblem(*subcommand); !problem.empty()) {
    return UsageError(problem);
  }

  const std::optional<absl::Duration> timeout = absl::GetFlag(FLAGS_timeout);
  absl::Time deadline = absl::Now() + timeout.value_or(kDefaultTimeout);
  if (subcommand->run == RunWatch) {
    if (!timeout.has_value()) deadline = absl::InfiniteFuture();
    // Before the channel exists: the threads gRPC starts inherit the mask.
    const sigset_t signals = StopSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  }

  const absl::StatusOr<osm::client::cli::Connection> connection =
      osm::client::cli::ConnectFromFlags();
  if (!connection.ok()) return UsageError(connection.status().message());
  const MessageClient client(connection->channel, connection->call_credentials);
  return subcommand->run(client, deadline);
}
