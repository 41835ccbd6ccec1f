// CurlUpstreamClient (and the loops and transfers under it) against a
// scripted local HTTP upstream.

#include "server/upstream/curl_upstream_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/mutex.h"
#include "tests/support/scripted_upstream.h"

namespace osm {
namespace {

using testing::RefusingPort;
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
  // Waits until `n` outcomes are in, for at most `timeout`; returns what is.
  std::vector<absl::StatusOr<HttpResponse>> WaitFor(std::size_t n,
                                                    absl::Duration timeout = absl::Seconds(30)) {
    MutexLock lock(&mu_);
    changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
      mu_.AssertHeld();
      return outcomes_.size() >= n;
    });
    return outcomes_;
  }
  std::size_t size() {
    MutexLock lock(&mu_);
    return outcomes_.size();
  }

 private:
  Mutex mu_;
  CondVar changed_;
  std::vector<absl::StatusOr<HttpResponse>> outcomes_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<CurlUpstreamClient> MakeClient(int loops = 1, int max_connections = 64,
                                               int spread_above_load = 32) {
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.loop_threads = loops;
  options.max_connections = max_connections;
  options.spread_above_load = spread_above_load;
  absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> client = CurlUpstreamClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

constexpr absl::string_view kKeptHeaders[] = {"x-request-id", "retry-after"};

HttpRequest Request(const ScriptedUpstream& upstream, absl::Duration timeout = absl::Seconds(10)) {
  HttpRequest request;
  request.url = absl::StrCat(upstream.base_url(), "/v2/x");
  request.headers = {"X-Test: 1"};
  request.response_headers = kKeptHeaders;
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
  EXPECT_THAT(results[0]->headers,
              ::testing::ElementsAre(std::pair<std::string, std::string>("x-request-id", "r-1"),
                                     std::pair<std::string, std::string>("retry-after", "3")));
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
  // The transfers were aborted, not just reported: the upstream saw every
  // connection close.
  EXPECT_TRUE(upstream.WaitForPeerCloses(4));
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
  // One collector per transfer, so that the test knows which one ended.
  Outcomes first;
  Outcomes second;
  // Four loops asked for, one connection allowed: one loop (each needs a
  // connection of its own), whose queue holds the second transfer.
  auto client = MakeClient(/*loops=*/4, /*max_connections=*/1);
  ASSERT_NE(client, nullptr);
  // The first holds the only connection for 30 s; the second waits for it
  // and must end at its own deadline, 200 ms, while still queued. (curl
  // itself never times out a transfer that has no connection yet: without
  // the loop's own expiry the second would wait for the first.)
  client->Start(Request(upstream, absl::Seconds(30)), first.Callback());
  ASSERT_TRUE(upstream.WaitForRequests(1));
  const absl::Time queued = absl::Now();
  client->Start(Request(upstream, absl::Milliseconds(200)), second.Callback());
  auto results = second.WaitFor(1, /*timeout=*/absl::Seconds(2));
  const absl::Duration waited = absl::Now() - queued;
  ASSERT_EQ(results.size(), 1u) << "the queued transfer was still waiting after " << waited;
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kDeadlineExceeded) << results[0].status();
  EXPECT_GE(waited, absl::Milliseconds(150));
  EXPECT_EQ(first.size(), 0u) << "the first transfer ended: the second's end proves nothing";
  EXPECT_EQ(upstream.request_count(), 1);
  EXPECT_EQ(upstream.connections_accepted(), 1);
}

TEST(CurlUpstreamClientTest, OneTransferAtATimeStaysOnOneLoopAndOneConnection) {
  ScriptedUpstream upstream;
  auto client = MakeClient(/*loops=*/3);
  for (int i = 0; i < 5; ++i) {
    Outcomes outcomes;
    client->Start(Request(upstream), outcomes.Callback());
    auto results = outcomes.WaitFor(1);
    ASSERT_EQ(results.size(), 1u);
    for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.status();
  }
  EXPECT_EQ(upstream.request_count(), 5);
  // Round-robin would have opened one connection per loop.
  EXPECT_EQ(upstream.connections_accepted(), 1);
}

TEST(CurlUpstreamClientTest, ConcurrentTransfersFillOneLoopBelowTheSpreadLoad) {
  ScriptedUpstream upstream;
  // No answer before all four are in flight: the loads stay as placed.
  upstream.SetHandler([&upstream](UpstreamExchange& exchange) {
    upstream.WaitForRequests(4, absl::Seconds(10));
    exchange.Respond(200, "{}");
  });
  auto client = MakeClient(/*loops=*/2, /*max_connections=*/64, /*spread_above_load=*/2);
  // Two at once: both below the spread load, both on the first loop (an id
  // names its loop: id % loops).
  Outcomes outcomes;
  const UpstreamClient::TransferId first = client->Start(Request(upstream), outcomes.Callback());
  const UpstreamClient::TransferId second = client->Start(Request(upstream), outcomes.Callback());
  EXPECT_EQ(first % 2, 0u);
  EXPECT_EQ(second % 2, 0u);
  // The first loop now has 2 in flight: the third goes to the other.
  const UpstreamClient::TransferId third = client->Start(Request(upstream), outcomes.Callback());
  EXPECT_EQ(third % 2, 1u);
  const UpstreamClient::TransferId fourth = client->Start(Request(upstream), outcomes.Callback());
  auto results = outcomes.WaitFor(4);
  ASSERT_EQ(results.size(), 4u);
  for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.status();
  // Least loaded beyond the spread load: the fourth joined the third's loop.
  EXPECT_EQ(fourth % 2, 1u);
}

TEST(CurlUpstreamClientTest, SpreadsConcurrentTransfersOverLoopsAndReusesConnections) {
  ScriptedUpstream upstream;
  // Each answer waits until both requests of its round have arrived, so that
  // the two are in flight together however fast the first could be answered
  // (one answered before the other starts would rightly share a loop). Two
  // transfers on one loop and one connection never get there: their answers
  // come after 10 s, and the connection count below fails.
  upstream.SetHandler([&upstream](UpstreamExchange& exchange) {
    const int arrived = upstream.request_count();
    upstream.WaitForRequests(arrived + arrived % 2, absl::Seconds(10));
    exchange.Respond(200, "{}");
  });
  // Spread from the second transfer in flight on.
  auto client = MakeClient(/*loops=*/2, /*max_connections=*/64, /*spread_above_load=*/1);
  for (int round = 0; round < 3; ++round) {
    Outcomes outcomes;
    for (int i = 0; i < 2; ++i) client->Start(Request(upstream), outcomes.Callback());
    auto results = outcomes.WaitFor(2);
    ASSERT_EQ(results.size(), 2u);
    for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.status();
  }
  EXPECT_EQ(upstream.request_count(), 6);
  // One connection per loop, each kept alive across rounds.
  EXPECT_EQ(upstream.connections_accepted(), 2);
}

TEST(CurlUpstreamClientTest, ConnectionRefusedIsRetriedUntilTheUpstreamComesUp) {
  RefusingPort upstream;
  Outcomes outcomes;
  MetricsRegistry registry;
  Counter* retries = registry.AddCounter("retries_total", "Retries.");
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.max_attempts = 10;
  options.retry_backoff = absl::Milliseconds(20);
  options.retries_counter = retries;
  auto client = *CurlUpstreamClient::Create(options);
  HttpRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", upstream.port(), "/v2/x");
  request.deadline = absl::Now() + absl::Seconds(20);
  client->Start(std::move(request), outcomes.Callback());

  // The first attempt was refused and another is scheduled; now come up.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (retries->Value() == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_GE(retries->Value(), 1u);
  ASSERT_TRUE(upstream.Listen());
  pollfd ready{upstream.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&ready, 1, 10000), 1);
  const int connection = accept(upstream.fd(), nullptr, nullptr);
  char buffer[4096];
  ASSERT_GT(recv(connection, buffer, sizeof(buffer), 0), 0);
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
  ASSERT_EQ(send(connection, answer.data(), answer.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(answer.size()));
  auto results = outcomes.WaitFor(1);
  close(connection);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_EQ(results[0]->status, 200);
}

TEST(CurlUpstreamClientTest, RetriesStopAtMaxAttemptsAndInsideTheDeadline) {
  RefusingPort upstream;
  MetricsRegistry registry;
  Counter* retries = registry.AddCounter("retries_total", "Retries.");
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.max_attempts = 3;
  options.retry_backoff = absl::Milliseconds(10);
  options.retries_counter = retries;
  {
    Outcomes outcomes;
    auto client = *CurlUpstreamClient::Create(options);
    HttpRequest request;
    request.url = absl::StrCat("http://127.0.0.1:", upstream.port(), "/v2/x");
    request.deadline = absl::Now() + absl::Seconds(20);
    client->Start(std::move(request), outcomes.Callback());
    auto results = outcomes.WaitFor(1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(retries->Value(), 2u);  // three attempts in all
  }
  {
    // No room in the deadline for the backoff: no retry at all.
    options.retry_backoff = absl::Seconds(5);
    Outcomes outcomes;
    auto client = *CurlUpstreamClient::Create(options);
    HttpRequest request;
    request.url = absl::StrCat("http://127.0.0.1:", upstream.port(), "/v2/x");
    request.deadline = absl::Now() + absl::Seconds(2);
    client->Start(std::move(request), outcomes.Callback());
    auto results = outcomes.WaitFor(1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(retries->Value(), 2u);
  }
}

TEST(CurlUpstreamClientTest, AFailureAfterSendingIsNeverRetried) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) { exchange.Reset(); });
  MetricsRegistry registry;
  Counter* retries = registry.AddCounter("retries_total", "Retries.");
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.retries_counter = retries;
  Outcomes outcomes;
  auto client = *CurlUpstreamClient::Create(options);
  client->Start(Request(upstream), outcomes.Callback());
  auto results = outcomes.WaitFor(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(upstream.request_count(), 1);
  EXPECT_EQ(retries->Value(), 0u);
}

TEST(CurlUpstreamClientTest, RejectsBadOptions) {
  CurlUpstreamClient::Options options;
  options.loop_threads = 0;
  EXPECT_EQ(CurlUpstreamClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.loop_threads = 1;
  options.max_connections = 0;
  EXPECT_EQ(CurlUpstreamClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace osm
