// The osm-adapter and osm-withdraw binaries as users run them.

#include "tests/support/adapter_process.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "tests/support/call_batch.h"
#include "tests/support/run_command.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::AdapterProcess;
using testing::CallBatch;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReleaseGate;
using testing::ScriptedUpstream;
using testing::UpstreamExchange;

constexpr char kToken[] = "process-test-token-7f3a9c";

std::unique_ptr<MessageService::Stub> StubFor(const AdapterProcess& adapter) {
  return MessageService::NewStub(
      grpc::CreateChannel(adapter.target(), grpc::InsecureChannelCredentials()));
}

TEST(AdapterProcessTest, ThousandConcurrentCallsUseAFixedSmallNumberOfThreads) {
  testing::RaiseDescriptorLimit();
  // Declared before the upstream, whose handlers use it until it is gone.
  ReleaseGate counted;
  ScriptedUpstream upstream;
  // One client connection carries all 1000 calls.
  AdapterProcess adapter(
      {absl::StrCat("--upstream=", upstream.base_url()), "--max_concurrent_streams=1000"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto stub = StubFor(adapter);

  // Warm up: one call, so that every lazily started thread exists.
  ASSERT_EQ(CallBatch(stub.get(), 1, absl::Seconds(10), kToken).WaitForAll(), 1);
  const int idle_threads = adapter.ThreadCount();
  // -1 if /proc could not be read, which would satisfy the bounds below.
  ASSERT_GT(idle_threads, 0);

  // The upstream holds every answer until the test has counted the threads.
  upstream.SetHandler([&counted](UpstreamExchange& exchange) {
    counted.Wait();
    exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "held"}});
  });
  constexpr int kCalls = 1000;
  CallBatch batch(stub.get(), kCalls, absl::Seconds(60), kToken);
  // All 1000 are in flight at once: the upstream holds them all.
  const bool all_arrived = upstream.WaitForRequests(1 + kCalls, absl::Seconds(60));
  const int busy_threads = adapter.ThreadCount();
  counted.Open();
  ASSERT_TRUE(all_arrived) << upstream.request_count() - 1 << " of " << kCalls << " arrived";
  ASSERT_GT(busy_threads, 0);
  EXPECT_EQ(batch.WaitForAll(), kCalls) << batch.FirstError();

  RecordProperty("idle_threads", idle_threads);
  RecordProperty("busy_threads", busy_threads);
  EXPECT_LE(busy_threads, idle_threads + 2) << "idle " << idle_threads;
  EXPECT_LE(busy_threads, 16);
}

TEST(AdapterProcessTest, SigtermLetsCallsInFlightFinishThenExitsZero) {
  // No answer before the adapter has taken the signal: the calls are in
  // flight during the shutdown, however slow the build. (Declared before the
  // upstream, whose handlers use it until it is gone.)
  ReleaseGate signal_taken;
  ScriptedUpstream upstream;
  upstream.SetHandler([&signal_taken](UpstreamExchange& exchange) {
    signal_taken.Wait();
    exchange.Respond(200, testing::kSuccessBody);
  });
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()), "--drain_timeout=20s"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  auto stub = StubFor(adapter);

  constexpr int kCalls = 50;
  CallBatch batch(stub.get(), kCalls, absl::Seconds(30), kToken);
  ASSERT_TRUE(upstream.WaitForRequests(kCalls));
  adapter.Signal(SIGTERM);
  const bool shutting_down = adapter.WaitForOutput("\"msg\":\"shutting down\"", absl::Seconds(10));
  signal_taken.Open();
  ASSERT_TRUE(shutting_down) << adapter.Output();

  EXPECT_EQ(batch.WaitForAll(), kCalls) << batch.FirstError();
  std::optional<int> status = adapter.WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_THAT(adapter.Output(), HasSubstr("\"msg\":\"shutting down\""));
  EXPECT_THAT(adapter.Output(), HasSubstr("\"msg\":\"stopped\""));
}

TEST(AdapterProcessTest, InvalidConfigurationFailsAtStartWithOneClearLine) {
  AdapterProcess adapter({"--upstream=ftp://osm.example.com"});
  EXPECT_FALSE(adapter.started());
  std::optional<int> status = adapter.WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  const std::vector<std::string> lines = absl::StrSplit(adapter.Output(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << adapter.Output();
  EXPECT_THAT(lines[0], HasSubstr("upstream URL must start with https:// or http://"));
}

using testing::RunCommand;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_.SetHandler([](UpstreamExchange& exchange) {
      if (absl::StrContains(exchange.request().target, "/cases/missing/")) {
        exchange.Respond(200,
                         R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})",
                         {{"X-Request-Id", "req-cli-404"}});
      } else {
        exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-cli-ok"}});
      }
    });
    adapter_ = std::make_unique<AdapterProcess>(
        std::vector<std::string>{absl::StrCat("--upstream=", upstream_.base_url())});
    ASSERT_TRUE(adapter_->started()) << adapter_->Output();
  }

  std::string Cli(const std::string& args) {
    return absl::StrCat(OSM_WITHDRAW_BINARY, " --target=", adapter_->target(), " ", args);
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterProcess> adapter_;
};

TEST_F(CliTest, PrintsTheResponseAndExitsZero) {
  auto [exit_code, output] = RunCommand(
      Cli(absl::StrCat("--case_id=c1 --message_id=m1 --language=en-us --token=", kToken)));
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_THAT(output, HasSubstr("\"http_status\": 200"));
  EXPECT_THAT(output, HasSubstr("\"request_id\": \"req-cli-ok\""));
  EXPECT_THAT(output, Not(HasSubstr(kToken)));
  ASSERT_EQ(upstream_.request_count(), 1);
  EXPECT_EQ(upstream_.requests()[0].Header("X-Auth-Token"), kToken);
  EXPECT_EQ(upstream_.requests()[0].Header("X-Language"), "en-us");
}

TEST_F(CliTest, TakesTheTokenFromTheEnvironment) {
  auto [exit_code, output] =
      RunCommand(absl::StrCat("OSM_AUTH_TOKEN=", kToken, " ", Cli("--case_id=c1 --message_id=m1")));
  EXPECT_EQ(exit_code, 0) << output;
  ASSERT_EQ(upstream_.request_count(), 1);
  EXPECT_EQ(upstream_.requests()[0].Header("X-Auth-Token"), kToken);
}

TEST_F(CliTest, PrintsTheStatusWithItsDetailsAndExitsWithTheCode) {
  auto [exit_code, output] =
      RunCommand(Cli(absl::StrCat("--case_id=missing --message_id=m1 --token=", kToken)));
  EXPECT_EQ(exit_code, 5) << output;  // NOT_FOUND
  EXPECT_THAT(output, HasSubstr("status: NOT_FOUND (5)"));
  EXPECT_THAT(output, HasSubstr("message: The case does not exist."));
  EXPECT_THAT(output, HasSubstr("x-request-id: req-cli-404"));
  EXPECT_THAT(output, HasSubstr("\"reason\": \"CASE_NOT_FOUND\""));
  EXPECT_THAT(output, HasSubstr("\"errorCode\": \"OSM.01010015\""));
  EXPECT_THAT(output, HasSubstr("\"@type\": \"type.googleapis.com/google.rpc.RequestInfo\""));
  EXPECT_THAT(output,
              HasSubstr("\"@type\": \"type.googleapis.com/huaweicloud.osm.v2.WithdrawResponse\""));
  EXPECT_THAT(output, Not(HasSubstr(kToken)));
}

TEST_F(CliTest, MissingIdsAreAUsageError) {
  auto [exit_code, output] = RunCommand(Cli("--case_id=c1"));
  EXPECT_EQ(exit_code, 64) << output;
  EXPECT_THAT(output, HasSubstr("--message_id"));
  EXPECT_EQ(upstream_.request_count(), 0);
}

TEST(CliTlsTest, CallsAnAdapterThatRequiresMutualTls) {
  testing::TempDir dir;
  testing::TestCertificateAuthority server_ca("cli test server CA");
  testing::TestCertificateAuthority client_ca("cli test client CA");
  const testing::PemKeyPair server =
      server_ca.IssueServer("adapter.test", {"localhost"}, {"127.0.0.1"});
  const testing::PemKeyPair client = client_ca.IssueClient("cli.test");
  ScriptedUpstream upstream;
  AdapterProcess adapter(
      {absl::StrCat("--upstream=", upstream.base_url()),
       absl::StrCat("--tls_cert_file=", dir.Write("server.pem", server.cert_pem)),
       absl::StrCat("--tls_key_file=", dir.Write("server.key", server.key_pem)),
       absl::StrCat("--tls_client_ca_file=", dir.Write("clients.pem", client_ca.cert_pem()))});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  const std::string cli =
      absl::StrCat(OSM_WITHDRAW_BINARY, " --target=", adapter.target(),
                   " --case_id=c1 --message_id=m1 --token=", kToken,
                   " --tls_ca_file=", dir.Write("ca.pem", server_ca.cert_pem()));
  auto [ok_code, ok_output] =
      RunCommand(absl::StrCat(cli, " --tls_cert_file=", dir.Write("client.pem", client.cert_pem),
                              " --tls_key_file=", dir.Write("client.key", client.key_pem)));
  EXPECT_EQ(ok_code, 0) << ok_output;
  // Without a client certificate the adapter refuses the connection.
  auto [refused_code, refused_output] = RunCommand(cli);
  EXPECT_EQ(refused_code, 14) << refused_output;  // UNAVAILABLE
  EXPECT_EQ(upstream.request_count(), 1);
  EXPECT_THAT(ok_output + refused_output, Not(HasSubstr(kToken)));
}

TEST_F(CliTest, ValidationErrorsExitWithInvalidArgument) {
  auto [exit_code, output] = RunCommand(
      Cli(absl::StrCat("--case_id=", std::string(40, 'c'), " --message_id=m1 --token=", kToken)));
  EXPECT_EQ(exit_code, 3) << output;
  EXPECT_THAT(output, HasSubstr("\"field\": \"case_id\""));
}

}  // namespace
}  // namespace osm
