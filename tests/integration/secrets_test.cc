// No secret ever leaks: the real osm-adapter binary runs whole scenarios
// (successes, upstream errors that echo the credentials back, a signing
// failure, a shutdown with a call in flight) with distinctive secret values,
// and every byte it printed and every status a caller received is searched
// for them.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/osm/rich_status.h"
#include "tests/support/adapter_process.h"
#include "tests/support/call_batch.h"
#include "tests/support/run_command.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/secret_scan.h"
#include "tests/support/signature_verifier.h"
#include "tests/support/status_details.h"
#include "tests/support/temp_dir.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::AdapterProcess;
using testing::CallBatch;
using testing::FindSecrets;
using testing::MaskSecrets;
using testing::ParseAuthorization;
using testing::ReceivedAuthorization;
using testing::RecordedRequest;
using testing::ReleaseGate;
using testing::ScriptedUpstream;
using testing::Secret;
using testing::TempDir;
using testing::UpstreamExchange;

constexpr char kAccessKey[] = "LEAKTESTAK";
constexpr char kSecretKey[] = "LEAKTEST-SK-q8Zr2Vt5Wm";
constexpr char kSecurityToken[] = "LEAKTEST-SECURITY-TOKEN-h3Jk9Pd1";
constexpr char kCallerToken[] = "LEAKTEST-CALLER-TOKEN-x7Nc4Bf0";

std::vector<Secret> AllSecrets() {
  return {{"the secret key", kSecretKey},
          {"the security token", kSecurityToken},
          {"the caller's token", kCallerToken}};
}

// Every header of the request, as an upstream that echoes them would put
// them in an error.
std::string EchoOfHeaders(const RecordedRequest& request) {
  std::string echo;
  for (const auto& [name, value] : request.headers) absl::StrAppend(&echo, name, "=", value, "; ");
  return echo;
}

// An upstream whose answer depends on the case id; several answers echo
// every request header (credentials included) in their body or headers.
// Case "slow" is answered once `slow_release` opens.
void Script(ScriptedUpstream& upstream, ReleaseGate& slow_release) {
  upstream.SetHandler([&slow_release](UpstreamExchange& exchange) {
    const RecordedRequest& request = exchange.request();
    const std::string& target = request.target;
    const std::string echo = EchoOfHeaders(request);
    const std::string token =
        request.Header("X-Security-Token").value_or(request.Header("X-Auth-Token").value_or(""));
    auto is = [&](const char* case_id) {
      return target.find(absl::StrCat("/cases/", case_id, "/")) != std::string::npos;
    };
    if (is("missing")) {
      exchange.Respond(200,
                       R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})",
                       {{"X-Request-Id", "req-missing"}});
    } else if (is("echo-json")) {
      // JSON-escaped echo: the parser unescapes it, the redaction must too.
      exchange.Respond(401,
                       absl::StrCat(R"({"error_code":"APIGW.0301","error_msg":"rejected: )", echo,
                                    R"(","request_id":")", token, R"("})"),
                       {{"X-Request-Id", token}});
    } else if (is("echo-html")) {
      exchange.Respond(502, absl::StrCat("<html><body>bad gateway ", echo, "</body></html>"),
                       {{"X-Request-Id", absl::StrCat("lb-", token)}});
    } else if (is("throttled")) {
      exchange.Respond(
          429,
          absl::StrCat(R"({"error_code":"APIGW.0308","error_msg":"throttled )", token, R"("})"),
          {{"Retry-After", "1"}});
    } else if (is("slow")) {
      slow_release.Wait();
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-slow"}});
    } else {
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-ok"}});
    }
  });
}

// What callers received, kept for the search.
class CallRecorder {
 public:
  explicit CallRecorder(const AdapterProcess& adapter)
      : stub_(MessageService::NewStub(
            grpc::CreateChannel(adapter.target(), grpc::InsecureChannelCredentials()))) {}

  grpc::Status Call(const std::string& case_id) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("x-auth-token", kCallerToken);
    WithdrawRequest request;
    request.set_case_id(case_id);
    request.set_message_id("msg-1");
    WithdrawResponse response;
    const grpc::Status status = stub_->Withdraw(&context, request, &response);
    Record(status, context, response);
    return status;
  }

  // Starts a call; WaitForAsync() waits for it (and the destructor cancels
  // it and waits, if the test ends first).
  void CallAsync(const std::string& case_id) {
    async_ = std::make_unique<CallBatch>(stub_.get(), 1, absl::Seconds(30), kCallerToken,
                                         [case_id](int) {
                                           WithdrawRequest request;
                                           request.set_case_id(case_id);
                                           request.set_message_id("msg-1");
                                           return request;
                                         });
  }
  grpc::Status WaitForAsync() {
    if (async_->WaitForAll(absl::Seconds(60)) < 0) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the call is still running");
    }
    const grpc::Status status = async_->Statuses()[0];
    Record(status, async_->context(0), async_->response(0));
    return status;
  }

  std::string Received() const { return received_; }

 private:
  void Record(const grpc::Status& status, const grpc::ClientContext& context,
              const WithdrawResponse& response) {
    absl::StrAppend(&received_, status.error_code(), " ", status.error_message(), "\n",
                    status.error_details(), "\n", response.SerializeAsString(), "\n");
    for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
      absl::StrAppend(&received_, std::string(key.data(), key.size()), ": ",
                      std::string(value.data(), value.size()), "\n");
    }
  }

  std::unique_ptr<MessageService::Stub> stub_;
  std::string received_;
  std::unique_ptr<CallBatch> async_;
};

// Every Authorization value the upstream saw, and each signature alone.
std::vector<Secret> SignaturesSent(const ScriptedUpstream& upstream) {
  std::vector<Secret> secrets;
  for (const RecordedRequest& request : upstream.requests()) {
    const std::optional<std::string> authorization = request.Header("Authorization");
    if (!authorization) continue;
    secrets.push_back({"an Authorization value", *authorization});
    if (absl::StatusOr<ReceivedAuthorization> parsed = ParseAuthorization(*authorization);
        parsed.ok()) {
      secrets.push_back({"a signature", parsed->signature});
    }
  }
  return secrets;
}

// Success, a business error, upstream errors echoing the credentials (JSON,
// HTML, throttling) and a request the adapter refuses.
void CallEveryKindOfAnswer(CallRecorder& calls) {
  EXPECT_TRUE(calls.Call("ok").ok());
  EXPECT_EQ(calls.Call("missing").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(calls.Call("echo-json").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(calls.Call("echo-html").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(calls.Call("throttled").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(calls.Call(std::string(33, 'c')).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// A shutdown with a call in flight: SIGTERM, the call finishes, exit 0. The
// upstream answers the call only once the adapter has taken the signal, so
// the call is in flight during the shutdown however slow the build.
void ShutDownDuringACall(AdapterProcess& adapter, ScriptedUpstream& upstream, CallRecorder& calls,
                         ReleaseGate& slow_release) {
  const int before = upstream.request_count();
  calls.CallAsync("slow");
  ASSERT_TRUE(upstream.WaitForRequests(before + 1));
  adapter.Signal(SIGTERM);
  const bool shutting_down = adapter.WaitForOutput("\"msg\":\"shutting down\"", absl::Seconds(10));
  slow_release.Open();
  ASSERT_TRUE(shutting_down);
  const grpc::Status answer = calls.WaitForAsync();
  EXPECT_TRUE(answer.ok()) << answer.error_code();
  const std::optional<int> status = adapter.WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(SecretsTest, ASigningAdapterNeverShowsItsCredentialsOrTheCallersToken) {
  ReleaseGate slow_release;  // before the upstream, whose handlers use it
  ScriptedUpstream upstream;
  Script(upstream, slow_release);
  TempDir dir;
  const std::string credentials = dir.Write(
      "credentials.json",
      absl::StrCat(R"({"ak":")", kAccessKey, R"(","sk":")", kSecretKey, R"(","security_token":")",
                   kSecurityToken, R"(","domain_id":"0123456789abcdef"})"));
  // The file is looked at on every call, so that a change shows at the next.
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()),
                          "--credentials_file=" + credentials, "--credentials_check_interval=0",
                          "--log_level=debug"});
  ASSERT_TRUE(adapter.started()) << MaskSecrets(adapter.Output(), AllSecrets());
  CallRecorder calls(adapter);

  CallEveryKindOfAnswer(calls);

  // A signing failure: the file is replaced by credentials that have expired.
  dir.Write("credentials.json", absl::StrCat(R"({"ak":")", kAccessKey, R"(","sk":")", kSecretKey,
                                             R"(","security_token":")", kSecurityToken,
                                             R"(","expires_at":"2020-01-01T00:00:00Z"})"));
  const grpc::Status expired = calls.Call("ok");
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAVAILABLE) << expired.error_message();
  EXPECT_EQ(ErrorInfoReason(expired), "CREDENTIALS_UNAVAILABLE");

  // Renewed, then a shutdown with a call in flight.
  dir.Write("credentials.json", absl::StrCat(R"({"ak":")", kAccessKey, R"(","sk":")", kSecretKey,
                                             R"(","security_token":")", kSecurityToken, R"("})"));
  const grpc::Status renewed = calls.Call("ok");
  EXPECT_TRUE(renewed.ok()) << renewed.error_message();
  ShutDownDuringACall(adapter, upstream, calls, slow_release);

  // The upstream did get the credentials (so the search below can fail)...
  const std::vector<Secret> signatures = SignaturesSent(upstream);
  ASSERT_GE(signatures.size(), 2u);
  for (const RecordedRequest& request : upstream.requests()) {
    EXPECT_EQ(request.HeaderCount("X-Auth-Token"), 0);
    EXPECT_TRUE(request.Header("X-Security-Token") == kSecurityToken);
  }
  // ...and neither the process nor any caller ever saw them.
  std::vector<Secret> secrets = AllSecrets();
  secrets.insert(secrets.end(), signatures.begin(), signatures.end());
  EXPECT_EQ(FindSecrets("the adapter's output", adapter.Output(), secrets), "");
  EXPECT_EQ(FindSecrets("what callers received", calls.Received(), secrets), "");
  // The searches looked at something.
  EXPECT_TRUE(absl::StrContains(adapter.Output(), "\"msg\":\"stopped\""));
  EXPECT_TRUE(absl::StrContains(adapter.Output(), "\"msg\":\"credentials expired"));
  EXPECT_TRUE(absl::StrContains(calls.Received(), "[REDACTED]"));
}

TEST(SecretsTest, APassThroughAdapterNeverShowsTheCallersToken) {
  ReleaseGate slow_release;  // before the upstream, whose handlers use it
  ScriptedUpstream upstream;
  Script(upstream, slow_release);
  AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()), "--log_level=debug"});
  ASSERT_TRUE(adapter.started()) << MaskSecrets(adapter.Output(), AllSecrets());
  CallRecorder calls(adapter);

  CallEveryKindOfAnswer(calls);
  ShutDownDuringACall(adapter, upstream, calls, slow_release);

  ASSERT_GE(upstream.request_count(), 6);
  EXPECT_TRUE(upstream.requests()[0].Header("X-Auth-Token") == kCallerToken);
  const std::vector<Secret> secrets = {{"the caller's token", kCallerToken}};
  EXPECT_EQ(FindSecrets("the adapter's output", adapter.Output(), secrets), "");
  EXPECT_EQ(FindSecrets("what callers received", calls.Received(), secrets), "");
  EXPECT_TRUE(absl::StrContains(adapter.Output(), "\"msg\":\"stopped\""));
  EXPECT_TRUE(absl::StrContains(calls.Received(), "[REDACTED]"));
}

using testing::RunCommand;

TEST(SecretsTest, HelpSaysWhichCredentialVariablesAreSetNeverTheirValues) {
  const auto [exit_code, output] = RunCommand(absl::StrCat(
      "HUAWEICLOUD_SDK_AK=", kAccessKey, " HUAWEICLOUD_SDK_SK=", kSecretKey,
      " HUAWEICLOUD_SDK_SECURITY_TOKEN=", kSecurityToken, " ", OSM_ADAPTER_BINARY, " --help"));
  EXPECT_EQ(exit_code, 0);
  EXPECT_THAT(output, ::testing::HasSubstr(
                          "in this environment: HUAWEICLOUD_SDK_AK set, HUAWEICLOUD_SDK_SK set, "
                          "HUAWEICLOUD_SDK_SECURITY_TOKEN set, HUAWEICLOUD_SDK_DOMAIN_ID unset"));
  EXPECT_THAT(output, ::testing::HasSubstr("--credentials_file"));
  EXPECT_EQ(FindSecrets("--help", output,
                        {{"the access key", kAccessKey},
                         {"the secret key", kSecretKey},
                         {"the security token", kSecurityToken}}),
            "");
}

}  // namespace
}  // namespace osm
