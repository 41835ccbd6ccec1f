// Faults from the upstream, overload and hostile callers: each ends in the
// right status within the caller's deadline, leaks nothing, and leaves the
// adapter serving the next call normally.

#include <arpa/inet.h>
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_server.h"
#include "server/base/mutex.h"
#include "server/osm/rich_status.h"
#include "server/upstream/curl_upstream_client.h"
#include "server/upstream/http_types.h"
#include "tests/support/adapter_process.h"
#include "tests/support/call_batch.h"
#include "tests/support/in_process_adapter.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using testing::CallBatch;
using testing::TestAdapterConfig;

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::AdapterProcess;
using testing::DecodedDetails;
using testing::DecodeDetails;
using ::testing::HasSubstr;
using testing::ScriptedUpstream;
using testing::UpstreamExchange;

constexpr char kToken[] = "robustness-token";

int OpenDescriptors() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.' ? 1 : 0;
    closedir(dir);
  }
  return count - 1;
}

WithdrawRequest MakeRequest(std::string case_id = "case-1") {
  WithdrawRequest request;
  request.set_case_id(std::move(case_id));
  request.set_message_id("msg-1");
  return request;
}

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdapterConfig config = TestAdapterConfig(upstream_.base_url());
    config.metrics_listen = "127.0.0.1:0";
    config.max_concurrent_streams = 1000;  // one client connection carries hundreds of calls
    auto server = AdapterServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                        grpc::InsecureChannelCredentials()));
  }

  grpc::Status Call(const WithdrawRequest& request, absl::Duration timeout = absl::Seconds(10),
                    const std::string& token = kToken,
                    const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    context.AddMetadata("x-auth-token", token);
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    WithdrawResponse response;
    return stub_->Withdraw(&context, request, &response);
  }

  // After any fault, the next ordinary call must just work.
  void ExpectServingNormally() {
    upstream_.SetHandler([](UpstreamExchange& exchange) {
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "fine"}});
    });
    const grpc::Status status = Call(MakeRequest());
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  }

  ScriptedUpstream upstream_;
  // An upstream client the test made itself, when it gives the server one;
  // declared before the server, which must not outlive it.
  std::unique_ptr<UpstreamClient> upstream_client_;
  std::unique_ptr<AdapterServer> server_;
  std::unique_ptr<MessageService::Stub> stub_;
};

struct Fault {
  std::string name;
  std::function<void(UpstreamExchange&)> upstream;
  absl::Duration deadline;
  grpc::StatusCode code;
  std::string reason;  // ErrorInfo reason; "" to skip the check
  // The adapter must close the upstream connection while the handler waits
  // for that (WaitForPeerClose): the transfer was aborted, not left to run.
  bool aborts_the_transfer = false;
};

std::string ChunkedHeaders() { return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"; }

TEST_F(RobustnessTest, UpstreamFaultsEndInTheRightStatusWithinTheDeadline) {
  const std::vector<Fault> faults = {
      {"reset during the headers",
       [](UpstreamExchange& x) {
         x.Write("HTTP/1.1 200 OK\r\nContent-Ty");
         x.Reset();
       },
       absl::Seconds(5), grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE"},
      {"reset after the headers, during the body",
       [](UpstreamExchange& x) {
         x.Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"error_co");
         x.Reset();
       },
       absl::Seconds(5), grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE"},
      {"closed with Content-Length larger than what was sent",
       [](UpstreamExchange& x) {
         x.Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"error_co");
         x.Close();
       },
       absl::Seconds(5), grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE"},
      {"accept and never answer",
       [](UpstreamExchange& x) { x.WaitForPeerClose(absl::Seconds(30)); }, absl::Milliseconds(400),
       grpc::StatusCode::DEADLINE_EXCEEDED, "", true},
      {"headers, then a body that stalls",
       [](UpstreamExchange& x) {
         x.Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"err");
         x.WaitForPeerClose(absl::Seconds(30));
       },
       absl::Milliseconds(400), grpc::StatusCode::DEADLINE_EXCEEDED, "", true},
      {"a body that trickles a byte a second",
       [](UpstreamExchange& x) {
         x.Write("HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n");
         for (int i = 0; i < 60 && !x.WaitForPeerClose(absl::Seconds(1)); ++i) x.Write("{");
       },
       absl::Milliseconds(1500), grpc::StatusCode::DEADLINE_EXCEEDED, "", true},
      {"a chunked body that never ends",
       [](UpstreamExchange& x) {
         x.Write(ChunkedHeaders());
         while (!x.WaitForPeerClose(absl::Milliseconds(50))) {
           if (!x.Write("1\r\n \r\n")) {
             // Closed as the chunk went out: see (and count) the close.
             x.WaitForPeerClose(absl::Seconds(10));
             break;
           }
         }
       },
       absl::Milliseconds(500), grpc::StatusCode::DEADLINE_EXCEEDED, "", true},
      // The first MiB and a bit at once, the rest of the 20 held back until
      // the connection closes (or 5 s pass): the adapter must cut the body
      // off at its limit, not read on and only then refuse it.
      {"20 MiB announced, more than the limit at once",
       [](UpstreamExchange& x) {
         const std::size_t announced = 20 << 20;
         const std::size_t first = kMaxResponseBodyBytes + (64 << 10);
         x.Write(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", announced, "\r\n\r\n",
                              std::string(first, 'x')));
         if (!x.WaitForPeerClose(absl::Seconds(5))) x.Write(std::string(announced - first, 'x'));
       },
       absl::Seconds(10), grpc::StatusCode::UNKNOWN, "UPSTREAM_RESPONSE_TOO_LARGE", true},
      {"HTML from a load balancer with 502",
       [](UpstreamExchange& x) {
         x.Respond(502, "<html><body>bad gateway</body></html>", {{"Content-Type", "text/html"}});
       },
       absl::Seconds(5), grpc::StatusCode::UNAVAILABLE, "UPSTREAM_HTTP_ERROR"},
      {"200 with a body that is not JSON",
       [](UpstreamExchange& x) { x.Respond(200, "OK, withdrawn"); }, absl::Seconds(5),
       grpc::StatusCode::UNKNOWN, "MALFORMED_UPSTREAM_RESPONSE"},
      {"200 with JSON that is not an object",
       [](UpstreamExchange& x) { x.Respond(200, "[\"error_code\", \"\"]"); }, absl::Seconds(5),
       grpc::StatusCode::UNKNOWN, "MALFORMED_UPSTREAM_RESPONSE"},
      {"200 with error_code of the wrong type",
       [](UpstreamExchange& x) { x.Respond(200, R"({"error_code":{"nested":true}})"); },
       absl::Seconds(5), grpc::StatusCode::UNKNOWN, "MALFORMED_UPSTREAM_RESPONSE"},
      {"a status line that is not HTTP",
       [](UpstreamExchange& x) {
         x.Write("SSH-2.0-OpenSSH_9.2\r\n");
         x.Close();
       },
       absl::Seconds(5), grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE"},
  };
  ExpectServingNormally();
  const int descriptors_before = OpenDescriptors();
  for (const Fault& fault : faults) {
    SCOPED_TRACE(fault.name);
    upstream_.SetHandler(fault.upstream);
    const absl::Time start = absl::Now();
    const int requests_before = upstream_.request_count();
    const int peer_closes_before = upstream_.peer_closes_seen();
    const grpc::Status status = Call(MakeRequest(), fault.deadline);
    EXPECT_EQ(status.error_code(), fault.code)
        << status.error_message() << " requests " << upstream_.request_count() - requests_before;
    EXPECT_LT(absl::Now() - start, fault.deadline + absl::Seconds(1));
    // A DEADLINE_EXCEEDED comes from the client's own deadline whatever the
    // adapter does: what shows the adapter gave up is the upstream seeing its
    // connection close.
    if (fault.aborts_the_transfer) {
      EXPECT_TRUE(upstream_.WaitForPeerCloses(peer_closes_before + 1, absl::Seconds(2)))
          << "the upstream transfer was not aborted";
    }
    EXPECT_LE(status.error_message().size(), 1024u);
    if (!fault.reason.empty()) {
      const DecodedDetails details = DecodeDetails(status);
      ASSERT_EQ(details.error_infos.size(), 1u);
      EXPECT_EQ(details.error_infos[0].reason(), fault.reason);
    }
    ExpectServingNormally();
  }
  // Connections of failed transfers are closed, not kept: what is open now
  // is what was open before (the kept-alive connection, both of its ends).
  EXPECT_LE(OpenDescriptors(), descriptors_before + 2);
}

TEST_F(RobustnessTest, RetryAfterAsAnHttpDate) {
  const absl::Time when = absl::Now() + absl::Seconds(90);
  upstream_.SetHandler([when](UpstreamExchange& x) {
    x.Respond(503, "",
              {{"Retry-After",
                absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", when, absl::UTCTimeZone())}});
  });
  const grpc::Status status = Call(MakeRequest());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  const DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_GE(details.retry_infos[0].retry_delay().seconds(), 85);
  EXPECT_LE(details.retry_infos[0].retry_delay().seconds(), 90);
}

TEST_F(RobustnessTest, RedirectToAnotherHostIsNotFollowedAndCredentialsStayHome) {
  ScriptedUpstream other;
  upstream_.SetHandler([&other](UpstreamExchange& x) {
    x.Respond(307, "", {{"Location", absl::StrCat(other.base_url(), "/steal")}});
  });
  const grpc::Status status = Call(MakeRequest());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(other.request_count(), 0);
  EXPECT_EQ(other.connections_accepted(), 0);
  ExpectServingNormally();
}

TEST_F(RobustnessTest, MetadataAtAndBeyondTheLimits) {
  upstream_.SetHandler([](UpstreamExchange& x) { x.Respond(200, testing::kSuccessBody); });
  const std::string longest(5000, 't');
  EXPECT_TRUE(Call(MakeRequest(), absl::Seconds(10), longest).ok());
  // Read under the upstream's lock, not from the handler's thread.
  const std::vector<testing::RecordedRequest> received = upstream_.requests();
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(received.back().Header("X-Auth-Token").value_or(""), longest);
  EXPECT_EQ(Call(MakeRequest(), absl::Seconds(10), std::string(5001, 't')).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Far beyond the adapter's --max_header_list_size (8 KiB): refused by the
  // server's transport as it reads the headers ("received"; the client sends
  // them as they are), before the adapter or the upstream sees the call.
  const int requests_before = upstream_.request_count();
  const grpc::Status huge =
      Call(MakeRequest(), absl::Seconds(10), kToken, {{"x-padding", std::string(40000, 'p')}});
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << huge.error_message();
  EXPECT_THAT(huge.error_message(), HasSubstr("received initial metadata size exceeds limit"));
  EXPECT_EQ(upstream_.request_count(), requests_before);
  // gRPC answers that by closing the connection; a new one must be served.
  stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  ExpectServingNormally();
}

TEST_F(RobustnessTest, AnOversizedRequestIsRefusedWithAClearStatus) {
  const grpc::Status status = Call(MakeRequest(std::string(5 << 20, 'c')));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("larger than max"));
  EXPECT_EQ(upstream_.request_count(), 0);
  ExpectServingNormally();
}

TEST_F(RobustnessTest, ThousandsOfConnectionsOpenedAndDropped) {
  ExpectServingNormally();
  const int descriptors_before = OpenDescriptors();
  for (int i = 0; i < 3000; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(server_->port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 && i % 2 == 0) {
      // Half of them say something that is not HTTP/2 first.
      (void)send(fd, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL);
    }
    close(fd);
  }
  ExpectServingNormally();
  // The server closes its ends of the dropped connections.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (OpenDescriptors() > descriptors_before + 4 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_LE(OpenDescriptors(), descriptors_before + 4);
}

TEST_F(RobustnessTest, AStormOfCancellationsMidFlight) {
  upstream_.SetHandler([](UpstreamExchange& x) { x.WaitForPeerClose(absl::Seconds(60)); });
  constexpr int kCalls = 500;
  CallBatch calls(stub_.get(), kCalls, absl::Seconds(60), kToken,
                  [](int) { return MakeRequest(); });
  ASSERT_TRUE(upstream_.WaitForRequests(kCalls, absl::Seconds(30)));
  for (std::size_t i = 0; i < calls.size(); ++i) calls.Cancel(i);
  ASSERT_EQ(calls.WaitForAll(absl::Seconds(30)), 0);
  for (const grpc::Status& status : calls.Statuses()) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  }
  // Every upstream transfer was aborted.
  EXPECT_TRUE(upstream_.WaitForPeerCloses(kCalls, absl::Seconds(30)));
  ExpectServingNormally();
}

TEST_F(RobustnessTest, DeadlinesOfAMillisecondAndOfAYear) {
  upstream_.SetHandler([](UpstreamExchange& x) { x.WaitForPeerClose(absl::Seconds(60)); });
  // The status of these comes from the client's own deadline, whatever the
  // adapter does; what shows that the adapter gave up too is that every
  // request that reached the upstream had its connection closed.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(Call(MakeRequest(), absl::Milliseconds(1)).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  EXPECT_TRUE(upstream_.WaitForPeerCloses(upstream_.request_count(), absl::Seconds(5)))
      << upstream_.request_count() << " requests, " << upstream_.peer_closes_seen() << " closed";
  // A millisecond rarely reaches the upstream; a longer deadline does (how
  // long depends on the machine: doubled from 50 ms until one arrives).
  const int requests_before = upstream_.request_count();
  bool reached = false;
  for (absl::Duration deadline = absl::Milliseconds(50);
       !reached && deadline <= absl::Milliseconds(3200); deadline *= 2) {
    EXPECT_EQ(Call(MakeRequest(), deadline).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    reached = upstream_.WaitForRequests(requests_before + 1, absl::Milliseconds(500));
  }
  ASSERT_TRUE(reached) << "no call with a deadline up to 3.2 s reached the upstream";
  EXPECT_TRUE(upstream_.WaitForPeerCloses(upstream_.request_count(), absl::Seconds(5)))
      << upstream_.request_count() << " requests, " << upstream_.peer_closes_seen() << " closed";
  ExpectServingNormally();

  // A year is bounded by --max_upstream_timeout.
  server_.reset();
  AdapterConfig config = TestAdapterConfig(upstream_.base_url());
  config.max_upstream_timeout = absl::Milliseconds(300);
  server_ = *AdapterServer::Start(config);
  stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  upstream_.SetHandler([](UpstreamExchange& x) { x.WaitForPeerClose(absl::Seconds(60)); });
  const int closes_before = upstream_.peer_closes_seen();
  const absl::Time start = absl::Now();
  const grpc::Status status = Call(MakeRequest(), absl::Hours(24 * 365));
  // The adapter's answer, not the client's deadline.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(ErrorInfoReason(status), "UPSTREAM_TIMEOUT");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(upstream_.WaitForPeerCloses(closes_before + 1, absl::Seconds(2)));
  ExpectServingNormally();
}

// What the queued transfer's end is told apart from.
class HeldTransfer {
 public:
  UpstreamClient::Callback Callback() {
    return [state = state_](absl::StatusOr<HttpResponse> outcome) {
      MutexLock lock(&state->mu);
      state->outcome = std::move(outcome);
      state->done = true;
      state->changed.NotifyAll();
    };
  }
  bool done() {
    MutexLock lock(&state_->mu);
    return state_->done;
  }
  std::optional<absl::StatusOr<HttpResponse>> WaitFor(absl::Duration timeout) {
    MutexLock lock(&state_->mu);
    state_->changed.WaitUntil(&state_->mu, absl::ToChronoTime(absl::Now() + timeout), [&] {
      state_->mu.AssertHeld();
      return state_->done;
    });
    if (!state_->done) return std::nullopt;
    return state_->outcome;
  }

 private:
  // Shared with the callback, which may run after the test returned.
  struct State {
    Mutex mu;
    CondVar changed;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<HttpResponse> outcome ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// A call that waits for an upstream connection must end at its deadline
// (--max_upstream_timeout here, well inside the caller's) while it still
// waits, not when a connection frees up. The only connection is held by a
// transfer the test starts on the adapter's upstream client itself, with a
// 30 s deadline: the call's status then comes from the adapter (the
// caller's deadline is 20 s away), and the queued transfer can expire only
// by the loop's own deadline check (curl never times out a transfer that
// has no connection yet).
TEST_F(RobustnessTest, AQueueForUpstreamConnectionsCountsInsideTheDeadline) {
  server_.reset();
  CurlUpstreamClient::Options options;
  options.scheme = "http";
  options.max_connections = 1;
  absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> client = CurlUpstreamClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  upstream_client_ = *std::move(client);
  AdapterConfig config = TestAdapterConfig(upstream_.base_url());
  config.max_upstream_connections = 1;
  config.max_upstream_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<AdapterServer>> server =
      AdapterServer::Start(config, upstream_client_.get());
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  upstream_.SetHandler([](UpstreamExchange& x) {
    if (!x.WaitForPeerClose(absl::Seconds(30))) x.Respond(200, testing::kSuccessBody);
  });

  HeldTransfer held;
  HttpRequest hold;
  hold.url = absl::StrCat(upstream_.base_url(), "/held");
  hold.deadline = absl::Now() + absl::Seconds(30);
  const UpstreamClient::TransferId held_id = upstream_client_->Start(hold, held.Callback());
  ASSERT_TRUE(upstream_.WaitForRequests(1));

  const absl::Time start = absl::Now();
  const grpc::Status status = Call(MakeRequest(), absl::Seconds(20));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_EQ(ErrorInfoReason(status), "UPSTREAM_TIMEOUT");
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_FALSE(held.done()) << "the held transfer ended: the call's end proves nothing";
  // It never reached the upstream, and the connection was never shared.
  EXPECT_EQ(upstream_.request_count(), 1);
  EXPECT_EQ(upstream_.connections_accepted(), 1);

  upstream_client_->Cancel(held_id);
  const std::optional<absl::StatusOr<HttpResponse>> held_outcome = held.WaitFor(absl::Seconds(10));
  ASSERT_TRUE(held_outcome.has_value());
  EXPECT_EQ(held_outcome->status().code(), absl::StatusCode::kCancelled);

  // With the connection free again (a new one: the cancelled transfer's was
  // closed), five calls at once queue for it and are served in turn, each
  // inside its deadline (the 1 s cap leaves room for a loaded, sanitized
  // build).
  upstream_.SetHandler([](UpstreamExchange& x) { x.Respond(200, testing::kSuccessBody); });
  const int connections_before = upstream_.connections_accepted();
  CallBatch five(stub_.get(), 5, absl::Seconds(10), kToken);
  EXPECT_EQ(five.WaitForAll(), 5) << five.FirstError();
  EXPECT_EQ(upstream_.connections_accepted(), connections_before + 1);
}

// 20,000 calls against a slow upstream with --max_in_flight=500: the excess
// is refused at once with RESOURCE_EXHAUSTED, a RetryInfo and a pushback;
// the admitted calls succeed; memory stays bounded.
// Defined by ThreadSanitizer's and AddressSanitizer's runtimes, when the
// test is built with them.
extern "C" void __tsan_init() __attribute__((weak));
extern "C" void __asan_init() __attribute__((weak));

TEST(OverloadTest, AFloodIsRefusedFastAndMemoryStaysBounded) {
  if (&__tsan_init != nullptr) {
    // What this test measures, the time and memory a flood of 20,000 calls
    // costs, is what ThreadSanitizer multiplies: under it, 1,000 of them
    // complete in two minutes. The other builds run it.
    GTEST_SKIP() << "a timing and memory bound: not under ThreadSanitizer";
  }
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& x) {
    absl::SleepFor(absl::Milliseconds(300));  // the upstream's latency
    x.Respond(200, testing::kSuccessBody);
  });
  // One client connection carries more calls than --max_in_flight allows.
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()), "--max_in_flight=500",
                          "--max_concurrent_streams=1000", "--access_log=off"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto stub = MessageService::NewStub(
      grpc::CreateChannel(adapter.target(), grpc::InsecureChannelCredentials()));

  constexpr int kCalls = 20000;
  CallBatch calls(stub.get(), kCalls, absl::Seconds(120), kToken,
                  [](int) { return MakeRequest(); });
  ASSERT_NE(calls.WaitForAll(absl::Seconds(120)), -1) << "calls still running after 120 s";
  const std::vector<grpc::Status> statuses = calls.Statuses();
  int ok = 0;
  int refused = 0;
  std::size_t first_refused = 0;
  absl::Duration slowest_refusal;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].ok()) {
      ++ok;
      continue;
    }
    ASSERT_EQ(statuses[i].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << statuses[i].error_message();
    if (refused++ == 0) first_refused = i;
    slowest_refusal = std::max(slowest_refusal, calls.took(i));
    std::string pushback;
    for (const auto& [key, value] : calls.context(i).GetServerTrailingMetadata()) {
      if (key == "grpc-retry-pushback-ms") pushback.assign(value.data(), value.size());
    }
    EXPECT_EQ(pushback, "1000");
  }
  // Before a refusal is decoded: with none there would be nothing to decode.
  ASSERT_GT(refused, 0);
  const DecodedDetails details = DecodeDetails(statuses[first_refused]);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "TOO_MANY_CALLS_IN_FLIGHT");
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), 1);

  EXPECT_EQ(ok + refused, kCalls);
  EXPECT_GE(ok, 500);
  EXPECT_EQ(upstream.request_count(), ok);
  // A refusal costs no upstream time: it comes back while the admitted
  // calls still wait for their 300 ms.
  EXPECT_LT(slowest_refusal, absl::Seconds(10));
  RecordProperty("admitted", ok);
  RecordProperty("refused", refused);
  RecordProperty("slowest_refusal_ms",
                 static_cast<int>(absl::ToInt64Milliseconds(slowest_refusal)));
  // The adapter's peak memory (VmHWM) under the flood.
  std::ifstream status(absl::StrCat("/proc/", adapter.pid(), "/status"));
  std::string line;
  long peak_kib = 0;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) peak_kib = std::stol(line.substr(6));
  }
  // 0 if /proc could not be read: the bound below would hold vacuously.
  ASSERT_GT(peak_kib, 0);
  RecordProperty("peak_rss_kib", static_cast<int>(peak_kib));
  // AddressSanitizer's redzones and quarantine multiply the footprint (about
  // 450 MiB measured); the bound that matters is the one of the real build.
  EXPECT_LT(peak_kib, (&__asan_init != nullptr ? 1024 : 200) * 1024);
}

}  // namespace
}  // namespace osm
