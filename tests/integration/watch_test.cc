// WatchNewMessages end to end: the real server (in process, or the
// osm-adapter binary for the restart) polling a local upstream that keeps
// messages the way OSM's ListNewInstantMessages documents them: each poll
// returns the messages after the caller's last_message_time_id and a new
// marker.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_server.h"
#include "server/base/mutex.h"
#include "tests/support/adapter_process.h"
#include "tests/support/in_process_adapter.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the contract's messages
using testing::AdapterProcess;
using testing::DecodeDetails;
using ::testing::ElementsAre;
using testing::ScriptedUpstream;
using testing::TestAdapterConfig;
using testing::UpstreamExchange;

constexpr char kToken[] = "iam-token-watch-0123456789";

// OSM's polling API over a list of messages numbered 1, 2, ...: the marker
// is the number of the last message returned. A poll can be held until the
// test releases it, and answers can be made to fail.
class PollingUpstream {
 public:
  PollingUpstream() {
    upstream_.SetHandler([this](UpstreamExchange& exchange) { Handle(exchange); });
  }

  std::string base_url() const { return upstream_.base_url(); }
  int polls() const { return upstream_.request_count(); }

  void Add(const std::string& case_id, const std::string& content) {
    MutexLock lock(&mu_);
    messages_.push_back({case_id, content});
  }
  // The next poll waits, before it reads the messages, until Release().
  void HoldNextPoll() {
    MutexLock lock(&mu_);
    hold_next_ = true;
  }
  bool WaitForHeldPoll() {
    MutexLock lock(&mu_);
    return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + absl::Seconds(10)), [&] {
      mu_.AssertHeld();
      return holding_;
    });
  }
  void Release() {
    {
      MutexLock lock(&mu_);
      released_ = true;
    }
    changed_.NotifyAll();
  }
  // The next `count` polls get this answer instead.
  void Fail(int count, int status, std::string body) {
    MutexLock lock(&mu_);
    failures_ = count;
    failure_status_ = status;
    failure_body_ = std::move(body);
  }

 private:
  struct Message {
    std::string case_id;
    std::string content;
  };

  void Handle(UpstreamExchange& exchange) {
    const std::string& target = exchange.request().target;
    const std::size_t query = target.find('?');
    std::int64_t after = 0;
    if (query != std::string::npos) {
      for (absl::string_view pair : absl::StrSplit(target.substr(query + 1), '&')) {
        if (absl::ConsumePrefix(&pair, "last_message_time_id="))
          (void)absl::SimpleAtoi(pair, &after);
      }
    }
    MutexLock lock(&mu_);
    if (failures_ > 0) {
      --failures_;
      exchange.Respond(failure_status_, failure_body_);
      return;
    }
    if (hold_next_) {
      hold_next_ = false;
      holding_ = true;
      changed_.NotifyAll();
      changed_.Wait(&mu_, [&] {
        mu_.AssertHeld();
        return released_;
      });
      holding_ = false;
    }
    std::string list;
    for (std::size_t i = static_cast<std::size_t>(after); i < messages_.size(); ++i) {
      absl::StrAppend(&list, list.empty() ? "" : ",", R"({"type":1,"content":")",
                      messages_[i].content, R"(","create_time":"2026-11-30T08:00:0)", i % 10,
                      R"(Z"})");
    }
    const std::string marker = absl::StrCat(std::max<std::size_t>(after, messages_.size()));
    exchange.Respond(200, absl::StrCat(R"({"imstatus":[{"status":0,"incident_id":"c1"}],)",
                                       R"("immsg":[{"incident_id":"c1","message_list":[)", list,
                                       R"(]}],"last_message_time_id":")", marker, R"("})"));
  }

  Mutex mu_;
  CondVar changed_;
  std::vector<Message> messages_ ABSL_GUARDED_BY(mu_);
  bool hold_next_ ABSL_GUARDED_BY(mu_) = false;
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  int failure_status_ ABSL_GUARDED_BY(mu_) = 0;
  std::string failure_body_ ABSL_GUARDED_BY(mu_);
  // Last: destroyed first, its threads (which run Handle) joined before the
  // state above goes.
  ScriptedUpstream upstream_;
};

WatchNewMessagesRequest Watch(std::string marker = "") {
  WatchNewMessagesRequest request;
  request.add_case_ids("c1");
  request.set_last_message_time_id(std::move(marker));
  request.mutable_poll_interval()->set_nanos(100'000'000);
  return request;
}

// One watch, read batch by batch.
class WatchStream {
 public:
  WatchStream(MessageService::Stub& stub, const WatchNewMessagesRequest& request,
              absl::Duration timeout = absl::Seconds(20)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    context_.AddMetadata("x-auth-token", kToken);
    reader_ = stub.WatchNewMessages(&context_, request);
  }

  // Reads batches until `count` messages in all have come; false if the
  // stream ended first.
  bool ReadMessages(std::size_t count) {
    WatchNewMessagesResponse batch;
    while (contents_.size() < count) {
      if (!reader_->Read(&batch)) return false;
      ++batches_;
      EXPECT_EQ(batch.cases_size(), 1);
      for (const auto& one_case : batch.cases()) {
        EXPECT_EQ(one_case.case_id(), "c1");
        for (const auto& message : one_case.messages()) contents_.push_back(message.content());
      }
      marker_ = batch.last_message_time_id();
    }
    return true;
  }
  // Reads until the stream ends; the status, and whether a batch came first.
  grpc::Status Finish(bool* more = nullptr) {
    WatchNewMessagesResponse batch;
    bool any = false;
    while (reader_->Read(&batch)) any = true;
    if (more != nullptr) *more = any;
    return reader_->Finish();
  }
  void Cancel() { context_.TryCancel(); }

  const std::vector<std::string>& contents() const { return contents_; }
  const std::string& marker() const { return marker_; }
  int batches() const { return batches_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<WatchNewMessagesResponse>> reader_;
  std::vector<std::string> contents_;
  std::string marker_;
  int batches_ = 0;
};

class WatchTest : public ::testing::Test {
 protected:
  void Start(int max_watches = 256) {
    AdapterConfig config = TestAdapterConfig(upstream_.base_url());
    config.min_watch_interval = absl::Milliseconds(100);
    config.watch_interval = absl::Milliseconds(100);
    config.max_watches = max_watches;
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                        grpc::InsecureChannelCredentials()));
  }

  PollingUpstream upstream_;
  std::unique_ptr<AdapterServer> server_;
  std::unique_ptr<MessageService::Stub> stub_;
};

TEST_F(WatchTest, SendsEachNewMessageOnceWithTheMarkerToResumeFrom) {
  Start();
  upstream_.Add("c1", "m1");
  WatchStream watch(*stub_, Watch());
  ASSERT_TRUE(watch.ReadMessages(1));
  EXPECT_EQ(watch.marker(), "1");
  upstream_.Add("c1", "m2");
  upstream_.Add("c1", "m3");
  ASSERT_TRUE(watch.ReadMessages(3));
  EXPECT_EQ(watch.marker(), "3");
  EXPECT_THAT(watch.contents(), ElementsAre("m1", "m2", "m3"));
  // Polls with nothing new send nothing.
  const int polls = upstream_.polls();
  upstream_.Add("c1", "m4");
  ASSERT_TRUE(watch.ReadMessages(4));
  EXPECT_GT(upstream_.polls(), polls);
  EXPECT_EQ(watch.batches(), 3);
  watch.Cancel();
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(WatchTest, ResumesAfterTheMarkerItIsGiven) {
  Start();
  for (const char* content : {"m1", "m2", "m3"}) upstream_.Add("c1", content);
  WatchStream watch(*stub_, Watch("2"));
  ASSERT_TRUE(watch.ReadMessages(1));
  EXPECT_THAT(watch.contents(), ElementsAre("m3"));
  watch.Cancel();
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(WatchTest, TransientFailuresBackOffAndTheStreamGoesOn) {
  Start();
  upstream_.Fail(1, 503, "busy");
  upstream_.Add("c1", "m1");
  WatchStream watch(*stub_, Watch());
  ASSERT_TRUE(watch.ReadMessages(1));
  EXPECT_EQ(upstream_.polls(), 2);
  upstream_.Fail(1, 200, R"({"error_code":"APIGW.0308","error_msg":"throttled"})");
  upstream_.Add("c1", "m2");
  ASSERT_TRUE(watch.ReadMessages(2));
  EXPECT_THAT(watch.contents(), ElementsAre("m1", "m2"));
  watch.Cancel();
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(WatchTest, PermanentFailureEndsTheStreamWithItsStatus) {
  Start();
  upstream_.Fail(1, 200, R"({"error_code":"OSM.01010015","error_msg":"no such case"})");
  WatchStream watch(*stub_, Watch());
  const grpc::Status status = watch.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no such case");
  const testing::DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "CASE_NOT_FOUND");
  EXPECT_EQ(details.osm_answers.at(0).error_code(), "OSM.01010015");
  EXPECT_EQ(upstream_.polls(), 1);
}

TEST_F(WatchTest, InvalidWatchIsRefusedBeforeAnyPoll) {
  Start();
  WatchNewMessagesRequest request = Watch();
  request.mutable_poll_interval()->set_seconds(7200);
  WatchStream watch(*stub_, request);
  const grpc::Status status = watch.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DecodeDetails(status).bad_requests.at(0).field_violations(0).field(), "poll_interval");
  EXPECT_EQ(upstream_.polls(), 0);
}

TEST_F(WatchTest, EndsAtTheCallersDeadline) {
  Start();
  WatchStream watch(*stub_, Watch(), absl::Milliseconds(600));
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_GE(upstream_.polls(), 2);
}

TEST_F(WatchTest, WatchesBeyondTheLimitAreRefusedWithRetryInfo) {
  Start(/*max_watches=*/1);
  upstream_.Add("c1", "m1");
  WatchStream first(*stub_, Watch());
  ASSERT_TRUE(first.ReadMessages(1));
  WatchStream second(*stub_, Watch());
  const grpc::Status refused = second.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const testing::DecodedDetails details = DecodeDetails(refused);
  EXPECT_EQ(details.error_infos.at(0).reason(), "TOO_MANY_WATCHES");
  EXPECT_EQ(details.error_infos.at(0).metadata().at("maxWatches"), "1");
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), 1);
  first.Cancel();
  EXPECT_EQ(first.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

// A restart loses nothing: on SIGTERM the adapter sends what the poll in
// flight brings, ends the stream with UNAVAILABLE, and the caller resumes
// from the last marker on the next replica.
TEST(WatchRestartTest, ResumeOnAnotherAdapterLosesNothing) {
  PollingUpstream upstream;
  const std::vector<std::string> args = {"--upstream=" + upstream.base_url(),
                                         "--watch_interval=100ms", "--min_watch_interval=100ms",
                                         "--shutdown_delay=0s", "--access_log=off"};
  auto first = std::make_unique<AdapterProcess>(args);
  ASSERT_TRUE(first->started());
  auto stub = MessageService::NewStub(
      grpc::CreateChannel(first->target(), grpc::InsecureChannelCredentials()));

  upstream.Add("c1", "m1");
  upstream.Add("c1", "m2");
  WatchStream watch(*stub, Watch());
  ASSERT_TRUE(watch.ReadMessages(2));

  upstream.HoldNextPoll();
  upstream.Add("c1", "m3");
  upstream.Add("c1", "m4");
  ASSERT_TRUE(upstream.WaitForHeldPoll());
  first->Signal(SIGTERM);
  ASSERT_TRUE(first->WaitForOutput("watches ending", absl::Seconds(10))) << first->Output();
  upstream.Release();
  ASSERT_TRUE(watch.ReadMessages(4));
  const grpc::Status ended = watch.Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(DecodeDetails(ended).error_infos.at(0).reason(), "SHUTTING_DOWN");
  const std::optional<int> exit = first->WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << first->Output();
  first.reset();

  upstream.Add("c1", "m5");
  AdapterProcess second(args);
  ASSERT_TRUE(second.started());
  auto second_stub = MessageService::NewStub(
      grpc::CreateChannel(second.target(), grpc::InsecureChannelCredentials()));
  WatchStream resumed(*second_stub, Watch(watch.marker()));
  upstream.Add("c1", "m6");
  ASSERT_TRUE(resumed.ReadMessages(2));
  std::vector<std::string> all = watch.contents();
  all.insert(all.end(), resumed.contents().begin(), resumed.contents().end());
  EXPECT_THAT(all, ElementsAre("m1", "m2", "m3", "m4", "m5", "m6"));
  resumed.Cancel();
  EXPECT_EQ(resumed.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace osm
