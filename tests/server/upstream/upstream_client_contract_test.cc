// What upstream_client.h promises about when and where a transfer's
// callback runs, pinned on the real client: it may run inside Start() and
// inside Cancel(), on the calling thread, and it runs exactly once.

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/base/mutex.h"
#include "server/upstream/curl_upstream_client.h"
#include "tests/support/scripted_upstream.h"

namespace osm {
namespace {

using testing::ScriptedUpstream;
using testing::UpstreamExchange;

std::unique_ptr<CurlUpstreamClient> Client() {
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.loop_threads = 1;
  absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> client = CurlUpstreamClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

// A request to `upstream` that must end by `deadline`.
HttpRequest RequestTo(const ScriptedUpstream& upstream, absl::Time deadline) {
  HttpRequest request;
  request.url = absl::StrCat(upstream.base_url(), "/x");
  request.deadline = deadline;
  return request;
}

// Where and how often a callback ran.
struct Seen {
  Mutex mu;
  CondVar changed;
  int calls ABSL_GUARDED_BY(mu) = 0;
  std::thread::id thread ABSL_GUARDED_BY(mu);
  absl::StatusCode code ABSL_GUARDED_BY(mu) = absl::StatusCode::kOk;

  UpstreamClient::Callback Callback() {
    return [this](absl::StatusOr<HttpResponse> outcome) {
      MutexLock lock(&mu);
      ++calls;
      thread = std::this_thread::get_id();
      code = outcome.status().code();
      changed.NotifyAll();
    };
  }
  int Calls() {
    MutexLock lock(&mu);
    return calls;
  }
  bool AwaitCall() {
    MutexLock lock(&mu);
    return changed.WaitUntil(&mu, absl::ToChronoTime(absl::Now() + absl::Seconds(10)), [&] {
      mu.AssertHeld();
      return calls > 0;
    });
  }
};

// A transfer whose deadline has passed ends before Start() returns, on the
// thread that called Start(): whoever calls Start() must be ready for that.
TEST(UpstreamClientContractTest, TheCallbackMayRunInsideStartOnTheCallingThread) {
  ScriptedUpstream upstream;
  Seen seen;
  auto client = Client();
  const HttpRequest request = RequestTo(upstream, absl::Now() - absl::Seconds(1));
  const UpstreamClient::TransferId id = client->Start(request, seen.Callback());
  EXPECT_NE(id, 0u);
  {
    MutexLock lock(&seen.mu);
    EXPECT_EQ(seen.calls, 1);  // already: inside Start()
    EXPECT_EQ(seen.thread, std::this_thread::get_id());
    EXPECT_EQ(seen.code, absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(upstream.request_count(), 0);
  client->Cancel(id);  // after the callback: harmless, and no second call
  EXPECT_EQ(seen.Calls(), 1);
}

// A cancelled transfer's callback runs once, with CANCELLED; when the loop is
// idle, inside Cancel() on the calling thread.
TEST(UpstreamClientContractTest, CancelEndsTheTransferOnceWithCancelled) {
  ScriptedUpstream upstream;
  upstream.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  Seen seen;
  auto client = Client();
  const HttpRequest request = RequestTo(upstream, absl::Now() + absl::Seconds(30));
  const UpstreamClient::TransferId id = client->Start(request, seen.Callback());
  ASSERT_TRUE(upstream.WaitForRequests(1));
  EXPECT_EQ(seen.Calls(), 0);
  client->Cancel(id);
  ASSERT_TRUE(seen.AwaitCall());
  client->Cancel(id);
  {
    MutexLock lock(&seen.mu);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, absl::StatusCode::kCancelled);
  }
  EXPECT_TRUE(upstream.WaitForPeerCloses(1));
}

// The client's destruction ends what is still running with CANCELLED, before
// the destructor returns.
TEST(UpstreamClientContractTest, DestructionCancelsWhatIsRunning) {
  ScriptedUpstream upstream;
  upstream.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  Seen seen;
  auto client = Client();
  const HttpRequest request = RequestTo(upstream, absl::Now() + absl::Seconds(30));
  client->Start(request, seen.Callback());
  ASSERT_TRUE(upstream.WaitForRequests(1));
  client.reset();
  MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.code, absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace osm
