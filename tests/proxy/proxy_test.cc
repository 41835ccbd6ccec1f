// Behind a real HTTP/2 proxy and across replicas: HAProxy from Debian running
// the shipped front (deploy/haproxy/haproxy.cfg) in front of osm-adapter
// processes, and gRPC's own round_robin over two adapters with the service
// config that client/service_config.json ships. Everything on 127.0.0.1,
// on ports picked here.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "tests/support/adapter_process.h"
#include "tests/support/haproxy_process.h"
#include "tests/support/scripted_upstream.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::AdapterProcess;
using testing::FreePort;
using testing::HaproxyProcess;
using testing::ReleaseGate;
using testing::ScriptedUpstream;
using testing::UpstreamExchange;

constexpr char kToken[] = "proxy-test-token-7c2a";

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target,
                                         const std::string& service_config = "") {
  grpc::ChannelArguments args;
  if (!service_config.empty()) args.SetServiceConfigJSON(service_config);
  // Separate channels get separate connections (gRPC would share one
  // subchannel between channels with equal arguments).
  static std::atomic<int> channel_number{0};
  args.SetInt("osm.test.channel", channel_number++);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::string ShippedServiceConfig() {
  std::ifstream file(OSM_SERVICE_CONFIG_FILE);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// What a caller sees of a call, everything compared byte for byte.
struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string details;  // grpc-status-details-bin, serialized google.rpc.Status
  std::string response;  // the serialized WithdrawResponse, when OK
  std::map<std::string, std::string> trailers;  // x-request-id, grpc-retry-pushback-ms
};

Outcome Call(MessageService::Stub& stub, const std::string& case_id,
             absl::Duration timeout = absl::Seconds(10)) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context.AddMetadata("x-auth-token", kToken);
  WithdrawRequest request;
  request.set_case_id(case_id);
  request.set_message_id("m1");
  WithdrawResponse response;
  const grpc::Status status = stub.Withdraw(&context, request, &response);
  Outcome outcome;
  outcome.code = status.error_code();
  outcome.message = status.error_message();
  outcome.details = status.error_details();
  if (status.ok()) response.SerializeToString(&outcome.response);
  for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
    const std::string name(key.data(), key.size());
    if (name == "x-request-id" || name == "grpc-retry-pushback-ms") {
      outcome.trailers[name] = std::string(value.data(), value.size());
    }
  }
  return outcome;
}

void ExpectSame(const Outcome& direct, const Outcome& proxied, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(proxied.code, direct.code);
  EXPECT_EQ(proxied.message, direct.message);
  EXPECT_EQ(proxied.details, direct.details);
  EXPECT_EQ(proxied.response, direct.response);
  EXPECT_EQ(proxied.trailers, direct.trailers);
}

// The front in front of one adapter, with its /ready checks on.
std::unique_ptr<HaproxyProcess> FrontFor(const AdapterProcess& adapter) {
  return std::make_unique<HaproxyProcess>(std::vector<std::string>{
      absl::StrCat("OSM_ADAPTER_ADDRESS=", adapter.target()),
      absl::StrCat("OSM_ADAPTER_READY_PORT=", adapter.metrics_port())});
}

// Waits until a call through `channel` succeeds (the front has checked the
// replica up); false after 10 s.
bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = MessageService::NewStub(channel);
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up) {
    if (Call(*stub, "c1", absl::Seconds(1)).code == grpc::StatusCode::OK) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void AnswerByCase(ScriptedUpstream& upstream, ReleaseGate* gate = nullptr) {
  upstream.SetHandler([gate](UpstreamExchange& exchange) {
    const std::string& target = exchange.request().target;
    if (target.find("/cases/missing/") != std::string::npos) {
      exchange.Respond(200, R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})",
                       {{"X-Request-Id", "req-missing"}});
    } else if (target.find("/cases/held/") != std::string::npos && gate != nullptr) {
      gate->Wait();
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-held"}});
    } else {
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-ok"}});
    }
  });
}

// One adapter for `upstream`, behind the front with its /ready checks on,
// and stubs that reach it directly and through the front.
struct FrontedAdapter {
  explicit FrontedAdapter(const ScriptedUpstream& upstream, std::vector<std::string> flags = {})
      : adapter([&] {
          flags.push_back(absl::StrCat("--upstream=", upstream.base_url()));
          return flags;
        }()),
        front(FrontFor(adapter)),
        direct(MessageService::NewStub(ChannelTo(adapter.target()))),
        proxied(MessageService::NewStub(ChannelTo(front->target()))) {}
  bool started() const { return adapter.started() && front->started(); }
  std::string Output() const { return adapter.Output() + front->Output(); }

  AdapterProcess adapter;
  std::unique_ptr<HaproxyProcess> front;
  std::unique_ptr<MessageService::Stub> direct;
  std::unique_ptr<MessageService::Stub> proxied;
};

TEST(ProxyTest, EveryOutcomeArrivesThroughTheFrontByteForByte) {
  ScriptedUpstream upstream;
  ReleaseGate gate;
  AnswerByCase(upstream, &gate);
  FrontedAdapter fronted(upstream);
  ASSERT_TRUE(fronted.started()) << fronted.Output();
  ASSERT_TRUE(WaitUntilServing(ChannelTo(fronted.front->target()))) << fronted.Output();
  MessageService::Stub& direct = *fronted.direct;
  MessageService::Stub& proxied = *fronted.proxied;

  for (const std::string case_id : {"c1", "missing", ".."}) {
    const Outcome a = Call(direct, case_id);
    const Outcome b = Call(proxied, case_id);
    ExpectSame(a, b, case_id);
  }
  // What the three are, so that "the same" cannot mean "both empty".
  EXPECT_EQ(Call(proxied, "c1").trailers["x-request-id"], "req-ok");
  Outcome missing = Call(proxied, "missing");
  EXPECT_EQ(missing.code, grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(missing.details.empty());
  EXPECT_EQ(missing.trailers["x-request-id"], "req-missing");
  const Outcome invalid = Call(proxied, "..");
  EXPECT_EQ(invalid.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(invalid.details.empty());
}

// Overload: one call holds the only slot of an adapter with
// --max_in_flight=1; the next is refused, with RetryInfo and
// grpc-retry-pushback-ms, the same with and without the front.
TEST(ProxyTest, AnOverloadRefusalArrivesThroughTheFrontByteForByte) {
  ScriptedUpstream upstream;
  ReleaseGate gate;
  AnswerByCase(upstream, &gate);
  FrontedAdapter fronted(upstream, {"--max_in_flight=1"});
  ASSERT_TRUE(fronted.started()) << fronted.Output();
  ASSERT_TRUE(WaitUntilServing(ChannelTo(fronted.front->target()))) << fronted.Output();
  MessageService::Stub& direct = *fronted.direct;
  MessageService::Stub& proxied = *fronted.proxied;

  // The slot of a call is free only after gRPC's OnDone, which may come
  // just after its caller has the answer: until the held call reaches the
  // upstream, an attempt may be refused, and ends at once.
  std::thread held;
  for (int attempt = 0; attempt < 100 && !held.joinable(); ++attempt) {
    const int before = upstream.request_count();
    std::thread call([&] { Call(direct, "held", absl::Seconds(30)); });
    if (upstream.WaitForRequests(before + 1, absl::Milliseconds(500))) {
      held = std::move(call);
    } else {
      call.join();
    }
  }
  ASSERT_TRUE(held.joinable()) << "the held call never reached the upstream";
  const Outcome refused_direct = Call(direct, "c1");
  const Outcome refused_proxied = Call(proxied, "c1");
  gate.Open();
  held.join();
  EXPECT_EQ(refused_direct.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused_direct.trailers.count("grpc-retry-pushback-ms"), 1u);
  EXPECT_FALSE(refused_direct.details.empty());
  ExpectSame(refused_direct, refused_proxied, "overload");
}

// One adapter behind the front, whose upstream holds every request until
// the adapter closes its connection.
struct HeldBehindTheFront {
  HeldBehindTheFront() {
    upstream.SetHandler(
        [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(30)); });
  }
  bool started() const { return fronted.started(); }
  std::string Output() const { return fronted.Output(); }

  ScriptedUpstream upstream;
  FrontedAdapter fronted{upstream};
  MessageService::Stub* proxied = fronted.proxied.get();
};

TEST(ProxyTest, TheCallersDeadlineReachesTheUpstreamThroughTheFront) {
  HeldBehindTheFront held;
  ASSERT_TRUE(held.started()) << held.Output();
  ScriptedUpstream& upstream = held.upstream;
  MessageService::Stub* proxied = held.proxied;

  const absl::Time start = absl::Now();
  const Outcome outcome = Call(*proxied, "c1", absl::Milliseconds(500));
  EXPECT_EQ(outcome.code, grpc::StatusCode::DEADLINE_EXCEEDED) << outcome.message;
  // grpc-timeout crossed the front: the adapter ended the upstream request
  // at the deadline, not at its own 30 s limit.
  ASSERT_TRUE(upstream.WaitForPeerCloses(1, absl::Seconds(5)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(upstream.request_count(), 1);
}

TEST(ProxyTest, ACallersCancellationEndsTheUpstreamTransferThroughTheFront) {
  HeldBehindTheFront held;
  ASSERT_TRUE(held.started()) << held.Output();
  ScriptedUpstream& upstream = held.upstream;
  MessageService::Stub* proxied = held.proxied;

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  context.AddMetadata("x-auth-token", kToken);
  WithdrawRequest request;
  request.set_case_id("c1");
  request.set_message_id("m1");
  WithdrawResponse response;
  std::atomic<int> code{-1};
  ReleaseGate done;
  proxied->async()->Withdraw(&context, &request, &response, [&](grpc::Status status) {
    code = status.error_code();
    done.Open();
  });
  ASSERT_TRUE(upstream.WaitForRequests(1));
  const absl::Time cancelled = absl::Now();
  context.TryCancel();
  ASSERT_TRUE(done.Wait());
  EXPECT_EQ(code, grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(upstream.WaitForPeerCloses(1, absl::Seconds(5)));
  EXPECT_LT(absl::Now() - cancelled, absl::Seconds(3));
}

TEST(ProxyTest, AMetadataFloodIsRefusedAtTheFrontWhichKeepsServing) {
  ScriptedUpstream upstream;
  AnswerByCase(upstream);
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url())});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto front = FrontFor(adapter);
  ASSERT_TRUE(front->started()) << front->Output();
  auto channel = ChannelTo(front->target());
  ASSERT_TRUE(WaitUntilServing(channel));
  auto stub = MessageService::NewStub(channel);

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("x-auth-token", kToken);
  context.AddMetadata("x-flood", std::string((1 << 20) + 4096, 'f'));  // 1 MiB and more
  WithdrawRequest request;
  request.set_case_id("c1");
  request.set_message_id("m1");
  WithdrawResponse response;
  const int before = upstream.request_count();
  const grpc::Status flooded = stub->Withdraw(&context, request, &response);
  EXPECT_FALSE(flooded.ok());
  EXPECT_EQ(upstream.request_count(), before) << "the flood reached the upstream";

  // The front and the adapter keep serving, on a new connection and on the
  // direct one.
  EXPECT_EQ(Call(*MessageService::NewStub(ChannelTo(front->target())), "c1").code,
            grpc::StatusCode::OK);
  EXPECT_EQ(Call(*MessageService::NewStub(ChannelTo(adapter.target())), "c1").code,
            grpc::StatusCode::OK);
}

// Counts the calls each of two upstreams (one per replica) received.
struct Shares {
  int first = 0;
  int second = 0;
};

void ExpectBothTakeTheirShare(const Shares& shares, int calls) {
  std::cout << "shares: " << shares.first << " / " << shares.second << " of " << calls << "\n";
  EXPECT_EQ(shares.first + shares.second, calls);
  EXPECT_GE(shares.first, calls * 35 / 100);
  EXPECT_LE(shares.first, calls * 65 / 100);
  EXPECT_GE(shares.second, calls * 35 / 100);
  EXPECT_LE(shares.second, calls * 65 / 100);
}

// `calls` calls over `connections` channels to `target`, all of which must
// succeed.
void CallMany(const std::string& target, const std::string& service_config, int calls,
              int connections) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      auto stub = MessageService::NewStub(ChannelTo(target, service_config));
      for (int i = c; i < calls; i += connections) {
        if (Call(*stub, "c1").code != grpc::StatusCode::OK) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
}

// One upstream per replica, answering by case: each counts its replica's
// calls.
struct TwoUpstreams {
  TwoUpstreams() {
    AnswerByCase(first);
    AnswerByCase(second);
  }
  ScriptedUpstream first;
  ScriptedUpstream second;
};

// The front's environment for two replicas, with their /ready checks on.
std::vector<std::string> FrontOverTwo(const std::string& first_address, int first_ready_port,
                                      const std::string& second_address,
                                      int second_ready_port) {
  return {absl::StrCat("OSM_ADAPTER_ADDRESS=", first_address),
          absl::StrCat("OSM_ADAPTER_READY_PORT=", first_ready_port),
          absl::StrCat("OSM_ADAPTER_ADDRESS_2=", second_address),
          absl::StrCat("OSM_ADAPTER_READY_PORT_2=", second_ready_port)};
}

TEST(ProxyTest, TwoReplicasBehindTheFrontShareTheCalls) {
  TwoUpstreams upstreams;
  ScriptedUpstream& first_upstream = upstreams.first;
  ScriptedUpstream& second_upstream = upstreams.second;
  AdapterProcess first({absl::StrCat("--upstream=", first_upstream.base_url())});
  AdapterProcess second({absl::StrCat("--upstream=", second_upstream.base_url())});
  ASSERT_TRUE(first.started() && second.started()) << first.Output() << second.Output();
  HaproxyProcess front(
      FrontOverTwo(first.target(), first.metrics_port(), second.target(), second.metrics_port()));
  ASSERT_TRUE(front.started()) << front.Output();
  ASSERT_TRUE(WaitUntilServing(ChannelTo(front.target())));
  const int before = first_upstream.request_count() + second_upstream.request_count();
  ASSERT_EQ(before, 1);  // WaitUntilServing's call
  const Shares start{first_upstream.request_count(), second_upstream.request_count()};

  // Four connections only: the front balances per call, not per connection.
  CallMany(front.target(), "", 10000, 4);
  ExpectBothTakeTheirShare({first_upstream.request_count() - start.first,
                            second_upstream.request_count() - start.second},
                           10000);
}

TEST(ProxyTest, RoundRobinOverTwoAddressesWithTheShippedServiceConfig) {
  TwoUpstreams upstreams;
  ScriptedUpstream& first_upstream = upstreams.first;
  ScriptedUpstream& second_upstream = upstreams.second;
  AdapterProcess first({absl::StrCat("--upstream=", first_upstream.base_url())});
  AdapterProcess second({absl::StrCat("--upstream=", second_upstream.base_url())});
  ASSERT_TRUE(first.started() && second.started()) << first.Output() << second.Output();
  const std::string target = absl::StrCat("ipv4:", first.target(), ",", second.target());
  // One channel: gRPC's round_robin spreads its calls over both addresses.
  CallMany(target, ShippedServiceConfig(), 10000, 1);
  ExpectBothTakeTheirShare({first_upstream.request_count(), second_upstream.request_count()},
                           10000);
}

// A replica on fixed ports, so that its replacement takes its place.
class Replica {
 public:
  Replica(const ScriptedUpstream& upstream)
      : upstream_url_(upstream.base_url()), port_(FreePort()), metrics_port_(FreePort()) {}

  bool Start() {
    process_ = std::make_unique<AdapterProcess>(std::vector<std::string>{
        absl::StrCat("--upstream=", upstream_url_), absl::StrCat("--listen=127.0.0.1:", port_),
        absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_), "--shutdown_delay=2s",
        "--drain_timeout=10s"});
    return process_->started();
  }
  // SIGTERM, and the process's exit status.
  std::optional<int> Stop() {
    process_->Signal(SIGTERM);
    return process_->WaitForExit(absl::Seconds(30));
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int metrics_port() const { return metrics_port_; }
  std::string Output() const { return process_ != nullptr ? process_->Output() : ""; }

 private:
  std::string upstream_url_;
  int port_;
  int metrics_port_;
  std::unique_ptr<AdapterProcess> process_;
};

// Steady load: `connections` channels, each making calls one after another
// at `per_connection` calls/s, until Stop(); every outcome counted.
class SteadyLoad {
 public:
  SteadyLoad(const std::string& target, const std::string& service_config, int connections,
             int per_connection) {
    for (int c = 0; c < connections; ++c) {
      threads_.emplace_back([this, target, service_config, per_connection] {
        auto stub = MessageService::NewStub(ChannelTo(target, service_config));
        const absl::Duration interval = absl::Seconds(1) / per_connection;
        absl::Time next = absl::Now();
        while (!stop_) {
          const Outcome outcome = Call(*stub, "c1");
          if (outcome.code == grpc::StatusCode::OK) {
            ++ok_;
          } else {
            ++failed_;
            MutexLock lock(&mu_);
            if (errors_.size() < 5) {
              errors_.push_back(absl::StrCat(outcome.code, " ", outcome.message));
            }
          }
          next += interval;  // pacing, not waiting for something to happen
          absl::SleepFor(next - absl::Now());
        }
      });
    }
  }
  ~SteadyLoad() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  int calls() const { return ok_ + failed_; }
  std::string errors() {
    MutexLock lock(&mu_);
    return absl::StrJoin(errors_, "; ");
  }
  // Waits until `n` calls have ended; false after `timeout`.
  bool WaitForCalls(int n, absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    while (calls() < n) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  std::atomic<int> failed_{0};
  Mutex mu_;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// Replaces each replica in turn while `load` runs: SIGTERM, exit 0, a
// replacement on the same ports, and calls reaching it again.
void RollingRestart(std::vector<Replica*> replicas, std::vector<ScriptedUpstream*> upstreams,
                    SteadyLoad& load) {
  for (std::size_t r = 0; r < replicas.size(); ++r) {
    ASSERT_TRUE(load.WaitForCalls(load.calls() + 3000, absl::Seconds(60)));
    EXPECT_EQ(replicas[r]->Stop(), 0) << replicas[r]->Output();
    ASSERT_TRUE(replicas[r]->Start()) << replicas[r]->Output();
    const int served = upstreams[r]->request_count();
    ASSERT_TRUE(upstreams[r]->WaitForRequests(served + 100, absl::Seconds(30)))
        << "the replacement of replica " << r << " gets no calls";
    std::cout << "replica " << r << " replaced after " << load.calls() << " calls\n";
  }
}

void RunRollingRestart(bool through_front) {
  TwoUpstreams upstreams;
  ScriptedUpstream& first_upstream = upstreams.first;
  ScriptedUpstream& second_upstream = upstreams.second;
  Replica first(first_upstream);
  Replica second(second_upstream);
  ASSERT_TRUE(first.Start() && second.Start()) << first.Output() << second.Output();
  std::unique_ptr<HaproxyProcess> front;
  std::string target;
  std::string service_config;
  if (through_front) {
    front = std::make_unique<HaproxyProcess>(FrontOverTwo(
        first.address(), first.metrics_port(), second.address(), second.metrics_port()));
    ASSERT_TRUE(front->started()) << front->Output();
    target = front->target();
    ASSERT_TRUE(WaitUntilServing(ChannelTo(target)));
  } else {
    target = absl::StrCat("ipv4:", first.address(), ",", second.address());
    service_config = ShippedServiceConfig();
  }

  // 8 connections at 50 calls/s each: 400 calls/s.
  SteadyLoad load(target, service_config, 8, 50);
  RollingRestart({&first, &second}, {&first_upstream, &second_upstream}, load);
  ASSERT_TRUE(load.WaitForCalls(20000, absl::Seconds(120)));
  load.Stop();
  std::cout << (through_front ? "through the front" : "client-side round_robin") << ": "
            << load.ok() << " calls OK, " << load.failed() << " failed, of " << load.calls()
            << "\n";
  ::testing::Test::RecordProperty("calls", load.calls());
  ::testing::Test::RecordProperty("failed", load.failed());
  EXPECT_GE(load.calls(), 20000);
  EXPECT_EQ(load.failed(), 0) << load.errors();
}

TEST(ProxyTest, RollingRestartThroughTheFrontLosesNoCall) { RunRollingRestart(true); }

TEST(ProxyTest, RollingRestartWithClientSideBalancingLosesNoCall) { RunRollingRestart(false); }

}  // namespace
}  // namespace osm
