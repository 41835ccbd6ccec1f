// AK/SK signing end to end: the adapter signs, a local upstream checks every
// request with a verifier written separately from the spec, and the adapter
// refuses to start where signing would let anyone act as the account.

#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_server.h"
#include "server/osm/credentials.h"
#include "tests/support/adapter_process.h"
#include "tests/support/in_process_adapter.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/secret_scan.h"
#include "tests/support/signature_verifier.h"
#include "tests/support/status_details.h"
#include "tests/support/temp_dir.h"

namespace osm {
namespace {

using testing::TestAdapterConfig;

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::AdapterProcess;
using testing::DecodeDetails;
using ::testing::ElementsAre;
using testing::FindSecrets;
using ::testing::HasSubstr;
using testing::MaskSecrets;
using testing::ParseAuthorization;
using testing::ReceivedAuthorization;
using testing::RecordedRequest;
using testing::ScriptedUpstream;
using testing::Secret;
using testing::TempDir;
using testing::UpstreamExchange;
using testing::VerifySignedRequest;

constexpr char kAccessKey[] = "SIGNINGTESTAK";
constexpr char kSecretKey[] = "signing-test-sk-7c1f09";
constexpr char kSecurityToken[] = "signing-test-security-token-5b2e44";
constexpr char kDomainId[] = "0123456789abcdef";
constexpr char kCallerToken[] = "caller-token-never-forwarded-31d8";

// ---- The verifier itself, against the published vector ---------------------

RecordedRequest PublicVectorRequest(absl::string_view target, absl::string_view signed_headers) {
  RecordedRequest request;
  request.method = "GET";
  request.target = std::string(target);
  request.version = "HTTP/1.1";
  request.headers = {
      {"Host", "example.huaweicloud.com"},
      {"X-Sdk-Date", "20060102T150405Z"},
      {"Authorization",
       absl::StrCat(
           "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=", signed_headers,
           ", Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")}};
  return request;
}

TEST(SignatureVerifierTest, AcceptsThePublicVectorAndRejectsEveryChange) {
  const absl::Time signed_at =
      absl::FromCivil(absl::CivilSecond(2006, 1, 2, 15, 4, 5), absl::UTCTimeZone());
  EXPECT_TRUE(VerifySignedRequest(PublicVectorRequest("/path?limit=1", "x-sdk-date"), "AccessKey",
                                  "SecretKey", signed_at)
                  .ok());

  struct Case {
    RecordedRequest request;
    std::string access_key;
    std::string secret_key;
    absl::Time now;
    std::string why;
  };
  const std::vector<Case> cases = {
      {PublicVectorRequest("/path?limit=2", "x-sdk-date"), "AccessKey", "SecretKey", signed_at,
       "the signature does not match"},
      {PublicVectorRequest("/path/other?limit=1", "x-sdk-date"), "AccessKey", "SecretKey",
       signed_at, "the signature does not match"},
      {PublicVectorRequest("/path?limit=1", "x-sdk-date"), "AccessKey", "OtherKey", signed_at,
       "the signature does not match"},
      {PublicVectorRequest("/path?limit=1", "host;x-sdk-date"), "AccessKey", "SecretKey", signed_at,
       "the signature does not match"},
      {PublicVectorRequest("/path?limit=1", "x-sdk-date"), "OtherAccessKey", "SecretKey", signed_at,
       "unknown access key"},
      {PublicVectorRequest("/path?limit=1", "host"), "AccessKey", "SecretKey", signed_at,
       "x-sdk-date is not signed"},
      {PublicVectorRequest("/path?limit=1", "x-sdk-date;host"), "AccessKey", "SecretKey", signed_at,
       "SignedHeaders are not sorted and unique"},
      {PublicVectorRequest("/path?limit=1", "x-sdk-date;x-unsent"), "AccessKey", "SecretKey",
       signed_at, "signed header x-unsent is not sent exactly once"},
      {PublicVectorRequest("/path?limit=1", "x-sdk-date"), "AccessKey", "SecretKey",
       signed_at + absl::Minutes(16), "X-Sdk-Date is too far off"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    const absl::Status status = VerifySignedRequest(c.request, c.access_key, c.secret_key, c.now);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(std::string(status.message()), c.why);
  }
}

// ---- The adapter signing ---------------------------------------------------

WithdrawRequest MakeRequest(std::string case_id = "case-1") {
  WithdrawRequest request;
  request.set_case_id(std::move(case_id));
  request.set_message_id("msg-1");
  return request;
}

// Answers like Huawei Cloud's gateway: 200 when the signature checks out
// with one of `keys` (AK -> SK), else 401 APIGW.0301 saying why.
ScriptedUpstream::Handler Verifying(std::map<std::string, std::string> keys) {
  return [keys = std::move(keys)](UpstreamExchange& exchange) {
    const RecordedRequest& request = exchange.request();
    std::string access_key;
    if (std::optional<std::string> authorization = request.Header("Authorization")) {
      if (absl::StatusOr<ReceivedAuthorization> parsed = ParseAuthorization(*authorization);
          parsed.ok()) {
        access_key = parsed->access_key;
      }
    }
    auto key = keys.find(access_key);
    absl::Status verified =
        key == keys.end() ? absl::UnauthenticatedError("unknown access key")
                          : VerifySignedRequest(request, key->first, key->second, absl::Now());
    if (verified.ok()) {
      exchange.Respond(200, testing::kSuccessBody, {{"X-Request-Id", "req-signed"}});
    } else {
      exchange.Respond(401,
                       absl::StrCat(R"({"error_code":"APIGW.0301","error_msg":"Incorrect IAM )",
                                    R"(authentication information: )", verified.message(),
                                    R"(","request_id":"req-rejected"})"));
    }
  };
}

struct CallResult {
  grpc::Status status;
  std::multimap<std::string, std::string> trailers;
};

CallResult Call(MessageService::Stub& stub, const WithdrawRequest& request,
                const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  WithdrawResponse response;
  CallResult result;
  result.status = stub.Withdraw(&context, request, &response);
  for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
    result.trailers.emplace(std::string(key.data(), key.size()),
                            std::string(value.data(), value.size()));
  }
  return result;
}

// Everything a caller received, as one text to search.
std::string Received(const CallResult& result) {
  std::string text =
      absl::StrCat(result.status.error_message(), "\n", result.status.error_details(), "\n");
  for (const auto& [key, value] : result.trailers) absl::StrAppend(&text, key, ": ", value, "\n");
  return text;
}

class SigningTest : public ::testing::Test {
 protected:
  void StartAdapter(std::shared_ptr<CredentialsProvider> credentials) {
    AdapterConfig config = TestAdapterConfig(upstream_.base_url());
    config.credentials = std::move(credentials);
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                        grpc::InsecureChannelCredentials()));
  }

  static std::shared_ptr<CredentialsProvider> Static(std::string secret_key = kSecretKey) {
    return std::make_shared<StaticCredentialsProvider>(
        AkSkCredentials{kAccessKey, std::move(secret_key), kSecurityToken, kDomainId}, "test");
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterServer> server_;
  std::unique_ptr<MessageService::Stub> stub_;
};

TEST_F(SigningTest, EveryRequestIsSignedAndNoCallerTokenTravels) {
  upstream_.SetHandler(Verifying({{kAccessKey, kSecretKey}}));
  StartAdapter(Static());
  WithdrawRequest request = MakeRequest();
  request.set_language("en-us");
  request.set_time_zone("GMT+8");

  const CallResult result = Call(*stub_, request, {{"x-auth-token", kCallerToken}});

  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(upstream_.request_count(), 1);
  const RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.HeaderCount("X-Auth-Token"), 0);
  EXPECT_EQ(sent.Header("X-Security-Token"), kSecurityToken);
  EXPECT_EQ(sent.Header("X-Domain-Id"), kDomainId);
  EXPECT_EQ(sent.Header("Host"), absl::StrCat("127.0.0.1:", upstream_.port()));
  const absl::StatusOr<ReceivedAuthorization> authorization =
      ParseAuthorization(sent.Header("Authorization").value_or(""));
  ASSERT_TRUE(authorization.ok()) << authorization.status();
  EXPECT_EQ(authorization->access_key, kAccessKey);
  EXPECT_THAT(authorization->signed_headers,
              ElementsAre("host", "x-domain-id", "x-language", "x-sdk-date", "x-security-token",
                          "x-time-zone"));
  EXPECT_EQ(authorization->signature.size(), 64u);
  const std::optional<absl::Time> signed_at =
      testing::ParseSdkDate(sent.Header("X-Sdk-Date").value_or(""));
  ASSERT_TRUE(signed_at.has_value()) << sent.Header("X-Sdk-Date").value_or("");
  EXPECT_LT(absl::AbsDuration(absl::Now() - *signed_at), absl::Minutes(1));
  const std::set<std::string> allowed = {
      "host",           "content-type",     "accept",       "user-agent",
      "content-length", "x-language",       "x-time-zone",  "x-sdk-date",
      "x-domain-id",    "x-security-token", "authorization"};
  for (const auto& [name, value] : sent.headers) {
    EXPECT_EQ(sent.HeaderCount(name), 1) << name;
    EXPECT_TRUE(allowed.count(absl::AsciiStrToLower(name))) << name;
  }
}

TEST_F(SigningTest, CallersNeedNoToken) {
  upstream_.SetHandler(Verifying({{kAccessKey, kSecretKey}}));
  StartAdapter(Static());
  const CallResult result = Call(*stub_, MakeRequest());
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(SigningTest, ASignatureWithTheWrongSecretKeyIsRefusedUpstream) {
  upstream_.SetHandler(Verifying({{kAccessKey, kSecretKey}}));
  StartAdapter(Static("not-the-right-secret-key"));
  const CallResult result = Call(*stub_, MakeRequest());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(result.status.error_message(),
            "Incorrect IAM authentication information: the signature does not match");
  const testing::DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "IAM_AUTHENTICATION_FAILED");
}

TEST_F(SigningTest, AnUpstreamThatEchoesTheCredentialsHandsNoneToTheCaller) {
  upstream_.SetHandler([](UpstreamExchange& exchange) {
    const std::string authorization = exchange.request().Header("Authorization").value_or("");
    const std::string token = exchange.request().Header("X-Security-Token").value_or("");
    exchange.Respond(401,
                     absl::StrCat(R"({"error_code":"APIGW.0301","error_msg":"rejected )",
                                  authorization, " with token ", token, R"("})"),
                     {{"X-Request-Id", absl::StrCat("id-", token)}});
  });
  StartAdapter(Static());
  const CallResult result = Call(*stub_, MakeRequest(), {{"x-auth-token", kCallerToken}});

  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(result.status.error_message(), HasSubstr("[REDACTED]"));
  ASSERT_EQ(upstream_.request_count(), 1);
  const absl::StatusOr<ReceivedAuthorization> parsed =
      ParseAuthorization(upstream_.requests()[0].Header("Authorization").value_or(""));
  ASSERT_TRUE(parsed.ok());
  const std::string findings = FindSecrets("what the caller received", Received(result),
                                           {{"signature", parsed->signature},
                                            {"security token", kSecurityToken},
                                            {"secret key", kSecretKey},
                                            {"caller token", kCallerToken}});
  EXPECT_EQ(findings, "");
}

// ---- Credentials from a file, rotated while the adapter runs ---------------

std::string CredentialsJson(absl::string_view access_key, absl::string_view secret_key,
                            absl::string_view expires_at = "") {
  std::string json = absl::StrCat(R"({"ak":")", access_key, R"(","sk":")", secret_key, R"(")");
  if (!expires_at.empty()) absl::StrAppend(&json, R"(,"expires_at":")", expires_at, R"(")");
  return json + "}";
}

std::string AccessKeySent(const RecordedRequest& request) {
  absl::StatusOr<ReceivedAuthorization> parsed =
      ParseAuthorization(request.Header("Authorization").value_or(""));
  return parsed.ok() ? parsed->access_key : "(unsigned)";
}

class FileSigningTest : public SigningTest {
 protected:
  std::shared_ptr<FileCredentialsProvider> Provider() {
    FileCredentialsProvider::Options options;
    options.check_interval = absl::ZeroDuration();  // look at the file on every call
    absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> provider =
        FileCredentialsProvider::Create(path_, options);
    EXPECT_TRUE(provider.ok()) << provider.status();
    return provider.ok() ? std::shared_ptr<FileCredentialsProvider>(*std::move(provider)) : nullptr;
  }

  TempDir dir_;
  std::string path_ = dir_.Write("credentials.json", CredentialsJson("AKONE", "sk-one-1a2b"));
};

TEST_F(FileSigningTest, ARotatedKeyIsUsedWithoutARestartAndAHalfWrittenFileIsNot) {
  upstream_.SetHandler(Verifying({{"AKONE", "sk-one-1a2b"}, {"AKTWO", "sk-two-3c4d"}}));
  StartAdapter(Provider());

  ASSERT_TRUE(Call(*stub_, MakeRequest()).status.ok());
  dir_.Write("credentials.json", CredentialsJson("AKTWO", "sk-two-3c4d"));
  ASSERT_TRUE(Call(*stub_, MakeRequest()).status.ok());
  dir_.WriteInPlace("credentials.json", R"({"ak":"AKTHREE","sk":"sk-thr)");
  ASSERT_TRUE(Call(*stub_, MakeRequest()).status.ok());

  const std::vector<RecordedRequest> sent = upstream_.requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(AccessKeySent(sent[0]), "AKONE");
  EXPECT_EQ(AccessKeySent(sent[1]), "AKTWO");
  EXPECT_EQ(AccessKeySent(sent[2]), "AKTWO");
}

TEST_F(FileSigningTest, ExpiredCredentialsFailWithUnavailableUntilTheFileIsReplaced) {
  dir_.Write("credentials.json", CredentialsJson("AKONE", "sk-one-1a2b", "2020-01-01T00:00:00Z"));
  upstream_.SetHandler(Verifying({{"AKONE", "sk-one-1a2b"}, {"AKTWO", "sk-two-3c4d"}}));
  StartAdapter(Provider());

  const CallResult expired = Call(*stub_, MakeRequest());
  EXPECT_EQ(expired.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(expired.status.error_message(),
            "the adapter cannot sign requests: the credentials from the file expired at "
            "2020-01-01T00:00:00+00:00 and no valid replacement has been loaded");
  const testing::DecodedDetails details = DecodeDetails(expired.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "CREDENTIALS_UNAVAILABLE");
  EXPECT_EQ(details.error_infos[0].domain(), "osm-grpc-adapter");
  EXPECT_EQ(upstream_.connections_accepted(), 0);

  dir_.Write("credentials.json", CredentialsJson("AKTWO", "sk-two-3c4d", "2100-01-01T00:00:00Z"));
  const CallResult renewed = Call(*stub_, MakeRequest());
  EXPECT_TRUE(renewed.status.ok()) << renewed.status.error_message();
  ASSERT_EQ(upstream_.request_count(), 1);
  EXPECT_EQ(AccessKeySent(upstream_.requests()[0]), "AKTWO");
}

// ---- Who may reach a signing adapter ---------------------------------------

TEST_F(SigningTest, AnOpenListenerIsRefusedUnlessCallersAreAuthenticatedOrTrusted) {
  AdapterConfig config = TestAdapterConfig(upstream_.base_url());
  config.credentials = Static();
  for (const char* listen : {"0.0.0.0:0", "[::]:0", "10.1.2.3:50051", "osm.example.com:50051"}) {
    SCOPED_TRACE(listen);
    config.listen = listen;
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(server.status().message()),
              absl::StrCat("--listen (OSM_ADAPTER_LISTEN): the adapter signs upstream requests "
                           "with its access key, so whoever "
                           "reaches ",
                           listen,
                           " acts as the account: require client certificates "
                           "(--tls_client_ca_file), listen on loopback or a unix: socket, or "
                           "state that the network in front authorizes callers "
                           "(--trust_network_callers)"));
  }
  config.listen = "0.0.0.0:0";
  config.trust_network_callers = true;
  absl::StatusOr<std::unique_ptr<AdapterServer>> trusted = AdapterServer::Start(config);
  EXPECT_TRUE(trusted.ok()) << trusted.status();
}

// The binary: refusals at start-up, one line each, and the start-up summary.
std::string SecretKeyVariable() { return absl::StrCat("HUAWEICLOUD_SDK_SK=", kSecretKey); }
std::string AccessKeyVariable() { return absl::StrCat("HUAWEICLOUD_SDK_AK=", kAccessKey); }

void ExpectRefusedAtStart(AdapterProcess& adapter, const std::string& line) {
  EXPECT_FALSE(adapter.started());
  const std::optional<int> status = adapter.WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_TRUE(absl::StrContains(adapter.Output(), line))
      << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
  EXPECT_EQ(FindSecrets("the adapter's output", adapter.Output(),
                        {{"secret key", kSecretKey}, {"security token", kSecurityToken}}),
            "");
}

TEST(SigningProcessTest, RefusesToStartOnAnOpenListener) {
  AdapterProcess adapter({"--upstream=http://127.0.0.1:1", "--listen=0.0.0.0:0"},
                         {AccessKeyVariable(), SecretKeyVariable()});
  ExpectRefusedAtStart(adapter,
                       "--listen (OSM_ADAPTER_LISTEN): the adapter signs upstream requests with "
                       "its access key, so whoever reaches 0.0.0.0:0 acts as the account");
}

TEST(SigningProcessTest, RefusesHalfConfiguredOrConflictingCredentials) {
  TempDir dir;
  const std::string file = dir.Write("credentials.json", CredentialsJson("AKFILE", kSecretKey));
  {
    AdapterProcess adapter({"--upstream=http://127.0.0.1:1"}, {AccessKeyVariable()});
    ExpectRefusedAtStart(adapter, "environment: HUAWEICLOUD_SDK_SK is required");
  }
  {
    AdapterProcess adapter({"--upstream=http://127.0.0.1:1", "--credentials_file=" + file},
                           {SecretKeyVariable()});
    ExpectRefusedAtStart(adapter,
                         "--credentials_file (OSM_ADAPTER_CREDENTIALS_FILE): HUAWEICLOUD_SDK_* "
                         "credentials are set in the environment too: use one source");
  }
  {
    AdapterProcess adapter(
        {"--upstream=http://127.0.0.1:1", "--credentials_file=" + dir.File("missing.json")});
    ExpectRefusedAtStart(adapter,
                         absl::StrCat("--credentials_file (OSM_ADAPTER_CREDENTIALS_FILE): ",
                                      dir.File("missing.json"), ": No such file or directory"));
  }
  {
    const std::string expired =
        dir.Write("expired.json", CredentialsJson("AKFILE", kSecretKey, "2020-01-01T00:00:00Z"));
    AdapterProcess adapter({"--upstream=http://127.0.0.1:1", "--credentials_file=" + expired});
    ExpectRefusedAtStart(
        adapter, absl::StrCat("--credentials_file (OSM_ADAPTER_CREDENTIALS_FILE): ", expired,
                              ": the credentials expired at "
                              "2020-01-01T00:00:00+00:00"));
  }
}

TEST(SigningProcessTest, TheStartUpSummaryNamesTheSourceNeverTheValues) {
  ScriptedUpstream upstream;
  upstream.SetHandler(Verifying({{kAccessKey, kSecretKey}}));
  {
    // Open listener, with the operator's word that the mesh authorizes callers.
    AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url()), "--listen=0.0.0.0:0",
                            "--trust_network_callers"},
                           {AccessKeyVariable(), SecretKeyVariable(),
                            absl::StrCat("HUAWEICLOUD_SDK_SECURITY_TOKEN=", kSecurityToken)});
    ASSERT_TRUE(adapter.WaitForOutput("\"msg\":\"listening\"", absl::Seconds(30)))
        << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
    EXPECT_TRUE(absl::StrContains(adapter.Output(), "\"upstream_auth\":\"signed: environment\""))
        << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
    EXPECT_TRUE(absl::StrContains(adapter.Output(), "\"trust_network_callers\":\"true\""))
        << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
    EXPECT_EQ(FindSecrets("the adapter's output", adapter.Output(),
                          {{"secret key", kSecretKey}, {"security token", kSecurityToken}}),
              "");
  }
  {
    TempDir dir;
    const std::string file = dir.Write("credentials.json", CredentialsJson(kAccessKey, kSecretKey));
    AdapterProcess adapter(
        {absl::StrCat("--upstream=", upstream.base_url()), "--credentials_file=" + file});
    ASSERT_TRUE(adapter.started()) << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
    EXPECT_TRUE(absl::StrContains(adapter.Output(),
                                  absl::StrCat("\"upstream_auth\":\"signed: file ", file, "\"")))
        << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
    auto stub = MessageService::NewStub(
        grpc::CreateChannel(adapter.target(), grpc::InsecureChannelCredentials()));
    const CallResult result = Call(*stub, MakeRequest());
    EXPECT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(FindSecrets("the adapter's output", adapter.Output(), {{"secret key", kSecretKey}}),
              "");
  }
  {
    AdapterProcess adapter({absl::StrCat("--upstream=", upstream.base_url())});
    ASSERT_TRUE(adapter.started()) << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
    EXPECT_TRUE(absl::StrContains(adapter.Output(), "\"upstream_auth\":\"pass-through\""))
        << MaskSecrets(adapter.Output(), {{"secret key", kSecretKey}});
  }
}

}  // namespace
}  // namespace osm
