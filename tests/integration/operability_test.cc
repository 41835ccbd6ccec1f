// What an operator relies on: health, reflection, drain on SIGTERM, Unix
// sockets, metrics, the access log, environment configuration, --help.
// These run the real osm-adapter binary.

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/health_probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "tests/support/adapter_process.h"
#include "tests/support/call_batch.h"
#include "tests/support/run_command.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/temp_dir.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::AdapterProcess;
using testing::CallBatch;
using ::testing::Contains;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReleaseGate;
using testing::RunCommand;
using testing::ScriptedUpstream;
using testing::TempDir;
using testing::UpstreamExchange;

constexpr char kToken[] = "operability-secret-token-5d1e";

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

grpc::Status Withdraw(MessageService::Stub& stub, const std::string& case_id,
                      std::multimap<std::string, std::string>* trailers = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("x-auth-token", kToken);
  WithdrawRequest request;
  request.set_case_id(case_id);
  request.set_message_id("m1");
  WithdrawResponse response;
  grpc::Status status = stub.Withdraw(&context, request, &response);
  if (trailers != nullptr) {
    for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
      trailers->emplace(std::string(key.data(), key.size()),
                        std::string(value.data(), value.size()));
    }
  }
  return status;
}

std::size_t AppendBody(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// GET http://127.0.0.1:port/path; returns {status, body}.
std::pair<long, std::string> HttpGet(int port, const std::string& path) {
  std::string body;
  long status = 0;
  CURL* easy = curl_easy_init();
  const std::string url = absl::StrCat("http://127.0.0.1:", port, path);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(easy) == CURLE_OK) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(easy);
  return {status, body};
}

// The value of the sample `series` (name with labels, exactly as rendered).
double Sample(const std::string& exposition, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
    }
  }
  return -1;
}

TEST(OperabilityTest, HealthAndReflection) {
  ScriptedUpstream upstream;
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url())});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto channel = ChannelTo(adapter.target());

  EXPECT_EQ(CheckHealth(channel, "", absl::Seconds(10)).value(), ServingStatus::kServing);
  EXPECT_EQ(CheckHealth(channel, "huaweicloud.osm.v2.MessageService", absl::Seconds(10)).value(),
            ServingStatus::kServing);
  EXPECT_EQ(CheckHealth(channel, "no.such.Service", absl::Seconds(10)).status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<std::vector<std::string>> services =
      ListServicesByReflection(channel, absl::Seconds(10));
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, Contains("huaweicloud.osm.v2.MessageService"));
  EXPECT_THAT(*services, Contains("grpc.health.v1.Health"));
}

// GET /ready on the metrics port, for load balancers that cannot speak
// gRPC's health protocol: 200 while serving; 503 from the SIGTERM on, while
// --shutdown_delay still takes calls, so that the balancer stops sending
// before the listener closes.
TEST(OperabilityTest, ReadyTurns503AtSigtermWhileCallsAreStillTaken) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "r"}});
  });
  AdapterProcess adapter(
      {absl::StrCat("--upstream=", upstream.base_url()), "--shutdown_delay=3s"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  EXPECT_EQ(HttpGet(adapter.metrics_port(), "/ready"), std::make_pair(200L, std::string("serving\n")));

  adapter.Signal(SIGTERM);
  ASSERT_TRUE(adapter.WaitForOutput("shutting down", absl::Seconds(10))) << adapter.Output();
  EXPECT_EQ(HttpGet(adapter.metrics_port(), "/ready"),
            std::make_pair(503L, std::string("not serving\n")));
  auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
  const grpc::Status status = Withdraw(*stub, "c1");
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(adapter.WaitForExit(absl::Seconds(30)), 0);
}

// 200 calls in flight against an upstream that answers after one second;
// SIGTERM in the middle: health turns NOT_SERVING at once, every call
// succeeds, the process exits 0 within the drain time.
TEST(OperabilityTest, SigtermDrainsTwoHundredCallsInFlight) {
  // The upstream answers one second after a request arrives, and never
  // before the test has seen health turn NOT_SERVING (so that the check
  // happens with the calls still in flight, however slow the build).
  // Declared before the upstream, whose handlers use it until it is gone.
  ReleaseGate released;
  ScriptedUpstream upstream;
  upstream.SetHandler([&](UpstreamExchange& exchange) {
    const absl::Time arrived = absl::Now();
    released.Wait();
    absl::SleepFor(arrived + absl::Seconds(1) - absl::Now());  // the upstream's latency
    exchange.Respond(200, testing::kSuccessBody);
  });
  // One client connection carries all 200 calls and the health checks.
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()), "--drain_timeout=20s",
                          "--shutdown_delay=300ms", "--max_concurrent_streams=1000"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto channel = ChannelTo(adapter.target());
  auto stub = MessageService::NewStub(channel);

  constexpr int kCalls = 200;
  CallBatch calls(stub.get(), kCalls, absl::Seconds(30), kToken);
  ASSERT_TRUE(upstream.WaitForRequests(kCalls, absl::Seconds(30)));
  const absl::Time signalled = absl::Now();
  adapter.Signal(SIGTERM);
  // NOT_SERVING while the calls are still in flight.
  absl::StatusOr<ServingStatus> health = ServingStatus::kServing;
  while (health.ok() && *health == ServingStatus::kServing &&
         absl::Now() - signalled < absl::Seconds(5)) {
    health = CheckHealth(channel, "", absl::Seconds(1));
  }
  EXPECT_TRUE(health.ok() && *health == ServingStatus::kNotServing) << health.status();
  released.Open();
  EXPECT_EQ(calls.WaitForAll(), kCalls) << calls.FirstError();
  std::optional<int> status = adapter.WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(20));
}

TEST(OperabilityTest, SecondSignalExitsAtOnce) {
  ScriptedUpstream upstream;
  upstream.SetHandler(
      [](UpstreamExchange& exchange) { exchange.WaitForPeerClose(absl::Seconds(60)); });
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()), "--drain_timeout=60s"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
  // Its destructor cancels it and waits for its callback, whatever returns
  // early below.
  CallBatch call(stub.get(), 1, absl::Seconds(60), kToken);
  ASSERT_TRUE(upstream.WaitForRequests(1));
  adapter.Signal(SIGTERM);
  // Wait until the first signal was taken, then send the second.
  ASSERT_TRUE(adapter.WaitForOutput("\"msg\":\"shutting down\"", absl::Seconds(10)));
  const absl::Time second = absl::Now();
  adapter.Signal(SIGINT);
  std::optional<int> status = adapter.WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_LT(absl::Now() - second, absl::Seconds(5));
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1);
  // The call in flight did not finish: the process was gone.
  EXPECT_EQ(call.WaitForAll(absl::Seconds(10)), 0) << "the call is still running";
}

TEST(OperabilityTest, ListensOnAUnixSocket) {
  ScriptedUpstream upstream;
  TempDir dir;  // outlives the adapter
  const std::string path = dir.File("osm-adapter.sock");
  AdapterProcess adapter(
      {absl::StrCat("--upstream=", upstream.base_url()), absl::StrCat("--listen=unix:", path)});
  ASSERT_FALSE(adapter.started());  // no TCP port
  ASSERT_THAT(adapter.Output(), HasSubstr(absl::StrCat("\"address\":\"unix:", path, "\"")));
  auto stub = MessageService::NewStub(ChannelTo(absl::StrCat("unix:", path)));
  EXPECT_TRUE(Withdraw(*stub, "c1").ok());
  EXPECT_EQ(upstream.request_count(), 1);
}

TEST(OperabilityTest, MetricsCountCallsUpstreamAnswersAndConnections) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    if (absl::StrContains(exchange.request().target, "/cases/missing/")) {
      exchange.Respond(200, R"({"error_code":"OSM.01010015","error_msg":"no case"})");
    } else if (absl::StrContains(exchange.request().target, "/cases/odd/")) {
      exchange.Respond(200, R"({"error_code":"XYZ.123","error_msg":"?"})");
    } else {
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "r"}});
    }
  });
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url())});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  ASSERT_NE(adapter.metrics_port(), 0);
  auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Withdraw(*stub, "c1").ok());
  EXPECT_EQ(Withdraw(*stub, "missing").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Withdraw(*stub, "odd").error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(Withdraw(*stub, "..").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A call is counted in OnDone, which gRPC may run just after the client
  // has its answer: scrape until the last of the six is in.
  long status = 0;
  std::string text;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    std::tie(status, text) = HttpGet(adapter.metrics_port(), "/metrics");
  } while (Sample(text, R"(osm_adapter_call_duration_seconds_count{method="Withdraw"})") < 6 &&
           absl::Now() < give_up);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(Sample(text, R"(osm_adapter_calls_total{method="Withdraw",code="OK"})"), 3);
  EXPECT_EQ(Sample(text, R"(osm_adapter_calls_total{method="Withdraw",code="NOT_FOUND"})"), 1);
  EXPECT_EQ(Sample(text, R"(osm_adapter_calls_total{method="Withdraw",code="UNKNOWN"})"), 1);
  EXPECT_EQ(Sample(text, R"(osm_adapter_calls_total{method="Withdraw",code="INVALID_ARGUMENT"})"),
            1);
  EXPECT_EQ(Sample(text, R"(osm_adapter_upstream_requests_total{http_status="200",error_code=""})"),
            3);
  EXPECT_EQ(
      Sample(text,
             R"(osm_adapter_upstream_requests_total{http_status="200",error_code="OSM.01010015"})"),
      1);
  // An unknown code never becomes a label of its own.
  EXPECT_EQ(
      Sample(text, R"(osm_adapter_upstream_requests_total{http_status="200",error_code="other"})"),
      1);
  EXPECT_THAT(text, Not(HasSubstr("XYZ.123")));
  EXPECT_EQ(Sample(text, R"(osm_adapter_call_duration_seconds_count{method="Withdraw"})"), 6);
  EXPECT_EQ(Sample(text, "osm_adapter_upstream_duration_seconds_count"), 5);
  EXPECT_EQ(Sample(text, "osm_adapter_calls_in_flight"), 0);
  EXPECT_EQ(Sample(text, "osm_adapter_upstream_connections"), 1);
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 0);
  EXPECT_GT(Sample(text, "process_open_fds"), 0);
  EXPECT_GT(Sample(text, "process_threads"), 0);
  EXPECT_THAT(text, HasSubstr("# TYPE osm_adapter_calls_total counter"));
  EXPECT_THAT(text, Not(HasSubstr(kToken)));
  EXPECT_EQ(HttpGet(adapter.metrics_port(), "/other").first, 404);
}

TEST(OperabilityTest, AccessLogHasOneLinePerCallAndNoSecrets) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-log-1"}});
  });
  TempDir dir;
  const std::string path = dir.File("access.log");
  {
    AdapterProcess adapter(
        {absl::StrCat("--upstream=", upstream.base_url()), absl::StrCat("--access_log=", path)});
    ASSERT_TRUE(adapter.started()) << adapter.Output();
    auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
    ASSERT_TRUE(Withdraw(*stub, "case-log").ok());
    EXPECT_EQ(Withdraw(*stub, std::string(40, 'x')).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    adapter.Signal(SIGTERM);
    ASSERT_TRUE(adapter.WaitForExit(absl::Seconds(20)).has_value());
    EXPECT_THAT(adapter.Output(), Not(HasSubstr(kToken)));
  }
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  std::vector<std::string> lines = absl::StrSplit(contents.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << contents.str();
  // Each line is written when its call is done (OnDone), which may come
  // after the client has its answer and sent the next call: either order.
  if (absl::StrContains(lines[1], R"("case_id":"case-log")")) std::swap(lines[0], lines[1]);
  EXPECT_THAT(lines[0], HasSubstr(R"("log":"access","method":"Withdraw","case_id":"case-log")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("grpc_code":"OK","http_status":200,"error_code":"")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("request_id":"req-log-1")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("peer":"ipv4:127.0.0.1:)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("upstream_ms":)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("grpc_code":"INVALID_ARGUMENT","reason":"INVALID_REQUEST")"));
  EXPECT_THAT(contents.str(), Not(HasSubstr(kToken)));
}

TEST(OperabilityTest, EnvironmentVariablesConfigureAndFlagsWin) {
  ScriptedUpstream upstream;
  ScriptedUpstream other;
  {
    AdapterProcess adapter({}, {absl::StrCat("OSM_ADAPTER_UPSTREAM=", upstream.base_url())});
    ASSERT_TRUE(adapter.started()) << adapter.Output();
    auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
    EXPECT_TRUE(Withdraw(*stub, "c1").ok());
    EXPECT_EQ(upstream.request_count(), 1);
  }
  {
    AdapterProcess adapter({absl::StrCat("--upstream=", other.base_url())},
                           {absl::StrCat("OSM_ADAPTER_UPSTREAM=", upstream.base_url())});
    ASSERT_TRUE(adapter.started()) << adapter.Output();
    auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
    EXPECT_TRUE(Withdraw(*stub, "c1").ok());
    EXPECT_EQ(other.request_count(), 1);
    EXPECT_EQ(upstream.request_count(), 1);
  }
  {
    AdapterProcess adapter({}, {"OSM_ADAPTER_DRAIN_TIMEOUT=soon"});
    EXPECT_FALSE(adapter.started());
    ASSERT_TRUE(adapter.WaitForExit(absl::Seconds(20)).has_value());
    EXPECT_THAT(adapter.Output(), HasSubstr("OSM_ADAPTER_DRAIN_TIMEOUT"));
  }
}

TEST(OperabilityTest, InvalidSettingsFailAtStartNamingTheSetting) {
  for (const auto& [flag, expected] : std::vector<std::pair<std::string, std::string>>{
           {"--metrics_listen=localhost:x", "--metrics_listen"},
           {"--upstream_threads=0", "--upstream_threads (OSM_ADAPTER_UPSTREAM_THREADS)"},
           {"--max_upstream_connections=0", "--max_upstream_connections"},
           {"--log_level=loud", "--log_level"},
           {"--access_log=/nonexistent-dir/x.log", "--access_log"},
           {"--upstream_ca_file=/nonexistent.pem", "--upstream_ca_file"},
           {"--grpc_memory_quota_mib=-1", "--grpc_memory_quota_mib"},
           {"--max_concurrent_streams=0", "--max_concurrent_streams"},
           {"--max_header_list_size=100", "--max_header_list_size"},
           {"--handshake_timeout=0", "--handshake_timeout"}}) {
    SCOPED_TRACE(flag);
    AdapterProcess adapter({flag});
    EXPECT_FALSE(adapter.started());
    std::optional<int> status = adapter.WaitForExit(absl::Seconds(20));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(WEXITSTATUS(*status), 2);
    const std::vector<std::string> lines =
        absl::StrSplit(adapter.Output(), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 1u) << adapter.Output();
    EXPECT_THAT(lines[0], HasSubstr(expected));
  }
}

// Keeps a connection busy: a call every 50 ms, one after the other, from a
// thread of its own, until destroyed.
class SteadyCalls {
 public:
  explicit SteadyCalls(MessageService::Stub* stub)
      : thread_([this, stub] {
          while (!stop_.load()) {
            const grpc::Status status = Withdraw(*stub, "steady");
            (status.ok() ? ok_ : failed_).fetch_add(1);
            absl::SleepFor(absl::Milliseconds(50));  // the pace of the calls
          }
        }) {}
  ~SteadyCalls() {
    stop_ = true;
    thread_.join();
  }
  int ok() const { return ok_.load(); }
  int failed() const { return failed_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

bool LeavesReadyWithin(grpc::Channel& channel, absl::Duration timeout) {
  return channel.WaitForStateChange(GRPC_CHANNEL_READY, absl::ToChronoTime(absl::Now() + timeout));
}

// --max_connection_idle closes a connection without calls (GOAWAY; the
// client's channel leaves READY), and not one that is busy.
TEST(OperabilityTest, AnIdleConnectionIsClosedAndABusyOneIsNot) {
  ScriptedUpstream upstream;
  AdapterProcess adapter(
      {absl::StrCat("--upstream=", upstream.base_url()), "--max_connection_idle=300ms"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto channel = ChannelTo(adapter.target());
  auto stub = MessageService::NewStub(channel);
  ASSERT_TRUE(Withdraw(*stub, "c1").ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  {
    // Busy for five times the idle limit: the connection stays.
    SteadyCalls busy(stub.get());
    EXPECT_FALSE(LeavesReadyWithin(*channel, absl::Milliseconds(1500)))
        << "a busy connection was closed";
    ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
    EXPECT_GT(busy.ok(), 5);
    EXPECT_EQ(busy.failed(), 0);
  }
  // Idle now: closed.
  EXPECT_TRUE(LeavesReadyWithin(*channel, absl::Seconds(10)));
  EXPECT_NE(channel->GetState(false), GRPC_CHANNEL_READY);
  // A new call simply reconnects.
  EXPECT_TRUE(Withdraw(*stub, "c2").ok());
}

// --max_connection_age closes a connection that is old, busy or not, and
// the calls go on over a new one.
TEST(OperabilityTest, AnOldConnectionIsClosedEvenWhileBusy) {
  ScriptedUpstream upstream;
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()),
                          "--max_connection_age=500ms", "--max_connection_age_grace=10s"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto channel = ChannelTo(adapter.target());
  auto stub = MessageService::NewStub(channel);
  ASSERT_TRUE(Withdraw(*stub, "c1").ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  SteadyCalls busy(stub.get());
  EXPECT_TRUE(LeavesReadyWithin(*channel, absl::Seconds(10))) << "an old busy connection stayed";
  // The calls that follow go over a new connection.
  const int ok_before = busy.ok();
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (busy.ok() < ok_before + 3 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GE(busy.ok(), ok_before + 3);
  EXPECT_EQ(busy.failed(), 0);
}

// --max_connection_age_grace: a call still running that long after the
// connection's max age ends with the connection (and its upstream transfer
// is aborted), instead of running on.
TEST(OperabilityTest, ACallLongerThanTheAgeGraceEndsWithTheConnection) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    if (!exchange.WaitForPeerClose(absl::Seconds(30))) exchange.Respond(200, testing::kSuccessBody);
  });
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()),
                          "--max_connection_age=300ms", "--max_connection_age_grace=300ms"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
  const absl::Time start = absl::Now();
  const grpc::Status status = Withdraw(*stub, "long");  // a 10 s deadline
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // Age and grace are 600 ms; without the grace it would run to its deadline.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(upstream.WaitForPeerCloses(1));
}

// The scheduling policy of every thread of `pid` (sched_getscheduler),
// after a call has been served so that gRPC's lazily started threads exist.
std::vector<int> ThreadPolicies(pid_t pid) {
  std::vector<int> policies;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    int tid = 0;
    if (absl::SimpleAtoi(entry.path().filename().string(), &tid)) {
      policies.push_back(sched_getscheduler(tid));
    }
  }
  return policies;
}

TEST(OperabilityTest, EveryThreadRunsUnderBatchSchedulingUnlessTurnedOff) {
  ScriptedUpstream upstream;
  upstream.SetHandler([](UpstreamExchange& exchange) {
    exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "r"}});
  });
  for (const bool batch : {true, false}) {
    SCOPED_TRACE(batch ? "default" : "--batch_scheduling=false");
    std::vector<std::string> args = {absl::StrCat("--upstream=", upstream.base_url())};
    if (!batch) args.push_back("--batch_scheduling=false");
    AdapterProcess adapter(args);
    ASSERT_TRUE(adapter.started()) << adapter.Output();
    auto stub = MessageService::NewStub(ChannelTo(adapter.target()));
    const grpc::Status status = Withdraw(*stub, "c1");
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::vector<int> policies = ThreadPolicies(adapter.pid());
    ASSERT_GE(policies.size(), 4u);  // main, gRPC's, the upstream loops
    EXPECT_THAT(policies, Each(batch ? SCHED_BATCH : SCHED_OTHER));
  }
}

TEST(OperabilityTest, HelpDocumentsEverySettingAndVersionWorks) {
  const std::string help = RunCommand(absl::StrCat(OSM_ADAPTER_BINARY, " --help")).output;
  for (const char* flag :
       {"--listen", "--upstream", "--max_upstream_timeout", "--connect_timeout",
        "--upstream_threads", "--batch_scheduling", "--max_upstream_connections", "--upstream_ca_file",
        "--upstream_http2", "--shutdown_delay", "--drain_timeout", "--log_level",
        "--metrics_listen", "--access_log", "--grpc_memory_quota_mib", "--max_concurrent_streams",
        "--max_header_list_size", "--handshake_timeout"}) {
    EXPECT_THAT(help, HasSubstr(flag));
  }
  EXPECT_THAT(help, HasSubstr("OSM_ADAPTER_"));
  EXPECT_THAT(help, HasSubstr("default: \"[::]:50051\""));
  EXPECT_THAT(RunCommand(absl::StrCat(OSM_ADAPTER_BINARY, " --version")).output,
              HasSubstr("osm-adapter " OSM_ADAPTER_VERSION));
}

}  // namespace
}  // namespace osm
