// CurlUpstreamClient against a scripted local HTTP upstream.

#include "curl_upstream_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mutex.h"
#include "support/scripted_upstream.h"

namespace osm {
namespace {

using testing::ScriptedUpstream;
using testing::UpstreamExchange;

// Collects the outcomes of transfers and lets the test wait for them.
class Outcomes {
 public:
  UpstreamClient::Callback Callback() {
    return [this](absl::StatusOr<HttpResponse> outcome) {
      MutexLock lock(&mu_);
      outcomes_.push_back(std::move(outcome));
      changed_.NotifyAll();
    };
  }
  std::vector<absl::StatusOr<HttpResponse>> WaitFor(std::size_t n) {
    MutexLock lock(&mu_);
    changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + absl::Seconds(30)), [&] {
      mu_.AssertHeld();
      return outcomes_.size() >= n;
    });
    return outcomes_;
  }

 private:
  Mutex mu_;
  CondVar changed_;
  std::vector<absl::StatusOr<HttpResponse>> outcomes_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<CurlUpstreamClient> MakeClient(int loops = 1, int max_connections = 64) {
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.loop_threads = loops;
  options.max_connections = max_connections;
  absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> client = CurlUpstreamClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

HttpRequest Request(const ScriptedUpstream& upstream, absl::Duration timeout = absl::Seconds(10)) {
  HttpRequest request;
  request.url = absl::StrCat(upstream.base_url(), "/v2/x");
  request.headers = {"X-Test: 1"};
  request.deadline = absl::Now() + timeout;
  return request;
}

TEST(CurlUpstreamClientTest, ReturnsStatusBodyAndHeaders) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(503, "{\"a\":1}", {{"x-request-id", "r-1"}, {"Retry-After", "3"}});
  });
  // Declared first: callbacks may still run while the client shuts down.
  Outcomes outcomes;
  auto client = MakeClient();
  client->Start(Request(upstream), outcomes.Callback());
  auto results = outcomes.WaitFor(1);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_EQ(results[0]->status, 503);
  EXPECT_EQ(results[0]->body, "{\"a\":1}");
  EXPECT_EQ(results[0]->request_id, "r-1");
  EXPECT_EQ(results[0]->retry_after, "3");
  EXPECT_FALSE(results[0]->body_truncated);
  const auto sent = upstream.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].target, "/v2/x");
  EXPECT_EQ(sent[0].Header("X-Test"), "1");
}

TEST(CurlUpstreamClientTest, AnExpiredDeadlineNeverReachesTheUpstream) {
  ScriptedUpstream upstream;
  // Declared first: callbacks may still run while the client shuts down.
  Outcomes outcomes;
  auto client = MakeClient();
  HttpRequest request = Request(upstream);
  request.deadline = absl::Now() - absl::Milliseconds(1);
  client->Start(std::move(request), outcomes.Callback());
  auto results = outcomes.WaitFor(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(upstream.connections_accepted(), 0);
}

TEST(CurlUpstreamClientTest, CancelAbortsTheTransferAndClosesItsConnection) {
  ScriptedUpstream upstream;
  upstream.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  // Declared first: callbacks may still run while the client shuts down.
  Outcomes outcomes;
  auto client = MakeClient();
  const UpstreamClient::TransferId id = client->Start(Request(upstream), outcomes.Callback());
  ASSERT_TRUE(upstream.WaitForRequests(1));
  client->Cancel(id);
  auto results = outcomes.WaitFor(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(upstream.WaitForPeerCloses(1));
  // Cancelling again, or after the end, is harmless.
  client->Cancel(id);
  client->Cancel(id + 1000);
}

TEST(CurlUpstreamClientTest, DestructionCancelsTransfersInFlight) {
  ScriptedUpstream upstream;
  upstream.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  // Declared first: callbacks may still run while the client shuts down.
  Outcomes outcomes;
  auto client = MakeClient(/*loops=*/2);
  for (int i = 0; i < 4; ++i) client->Start(Request(upstream), outcomes.Callback());
  ASSERT_TRUE(upstream.WaitForRequests(4));
  client.reset();
  auto results = outcomes.WaitFor(4);
  ASSERT_EQ(results.size(), 4u);
  for (const auto& result : results) {
    EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  }
}

TEST(CurlUpstreamClientTest, TransfersBeyondTheConnectionLimitQueue) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    absl::SleepFor(absl::Milliseconds(20));
    exchange.Respond(200, "{}");
  });
  // Declared first: callbacks may still run while the client shuts down.
  Outcomes outcomes;
  auto client = MakeClient(/*loops=*/1, /*max_connections=*/2);
  constexpr int kTransfers = 10;
  for (int i = 0; i < kTransfers; ++i) client->Start(Request(upstream), outcomes.Callback());
  auto results = outcomes.WaitFor(kTransfers);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kTransfers));
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->status, 200);
  }
  EXPECT_LE(upstream.connections_accepted(), 2);
}

TEST(CurlUpstreamClientTest, QueueWaitCountsTowardsTheDeadline) {
  ScriptedUpstream upstream;
  upstream.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  // Declared first: callbacks may still run while the client shuts down.
  Outcomes outcomes;
  auto client = MakeClient(/*loops=*/1, /*max_connections=*/1);
  // The first holds the only connection; the second waits for it and times out.
  client->Start(Request(upstream, absl::Seconds(30)), outcomes.Callback());
  ASSERT_TRUE(upstream.WaitForRequests(1));
  client->Start(Request(upstream, absl::Milliseconds(200)), outcomes.Callback());
  auto results = outcomes.WaitFor(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(upstream.request_count(), 1);
}

TEST(CurlUpstreamClientTest, SpreadsTransfersOverLoopsAndReusesConnections) {
  ScriptedUpstream upstream;
  auto client = MakeClient(/*loops=*/2);
  for (int round = 0; round < 3; ++round) {
    Outcomes outcomes;
    for (int i = 0; i < 2; ++i) client->Start(Request(upstream), outcomes.Callback());
    for (const auto& result : outcomes.WaitFor(2)) ASSERT_TRUE(result.ok()) << result.status();
  }
  EXPECT_EQ(upstream.request_count(), 6);
  // One connection per loop, each kept alive across rounds.
  EXPECT_EQ(upstream.connections_accepted(), 2);
}

TEST(CurlUpstreamClientTest, RejectsBadOptions) {
  CurlUpstreamClient::Options options;
  options.loop_threads = 0;
  EXPECT_EQ(CurlUpstreamClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.loop_threads = 4;
  options.max_connections = 2;
  EXPECT_EQ(CurlUpstreamClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace osm
