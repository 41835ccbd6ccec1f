// Verified TLS both ways: the adapter's HTTPS client against a local upstream
// whose CA is made at test time, and the adapter's gRPC listener with TLS and
// with client certificates.

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_server.h"
#include "tests/support/in_process_adapter.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/status_details.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace osm {
namespace {

using testing::TestAdapterConfig;

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;
using testing::DecodeDetails;
using ::testing::HasSubstr;
using testing::PemKeyPair;
using testing::ScriptedUpstream;
using ::testing::StartsWith;
using testing::TempDir;
using testing::TestCertificateAuthority;
using testing::UpstreamTls;

constexpr char kToken[] = "tls-test-token-42";

WithdrawRequest MakeRequest() {
  WithdrawRequest request;
  request.set_case_id("case-1");
  request.set_message_id("msg-1");
  return request;
}

AdapterConfig ConfigFor(const std::string& upstream_url) { return TestAdapterConfig(upstream_url); }

grpc::Status Call(MessageService::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("x-auth-token", kToken);
  WithdrawResponse response;
  return stub.Withdraw(&context, MakeRequest(), &response);
}

std::unique_ptr<MessageService::Stub> PlaintextStub(const AdapterServer& server) {
  return MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                                                     grpc::InsecureChannelCredentials()));
}

// ---- Upstream: HTTPS, always verified --------------------------------------

class UpstreamTlsTest : public ::testing::Test {
 protected:
  UpstreamTlsTest()
      : ca_("upstream test CA"),
        upstream_(Serving(ca_.IssueServer("osm.test", {"localhost"}, {"127.0.0.1"}))) {}

  static UpstreamTls Serving(const PemKeyPair& pair) { return {pair.cert_pem, pair.key_pem}; }

  std::unique_ptr<AdapterServer> StartAdapter(AdapterConfig config) {
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  TempDir dir_;
  TestCertificateAuthority ca_;
  ScriptedUpstream upstream_;
};

TEST_F(UpstreamTlsTest, AnUntrustedCertificateIsUnavailableAndSaysSo) {
  std::unique_ptr<AdapterServer> server = StartAdapter(ConfigFor(upstream_.base_url()));
  ASSERT_NE(server, nullptr);
  const grpc::Status status = Call(*PlaintextStub(*server));

  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(),
              StartsWith("OSM could not be reached: the upstream's TLS certificate was not "
                         "trusted: "));
  EXPECT_THAT(status.error_message(), HasSubstr("certificate"));
  const testing::DecodedDetails details = DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "UPSTREAM_UNAVAILABLE");
  // The request never went out: the handshake failed first.
  EXPECT_TRUE(upstream_.WaitForFailedHandshakes(1));
  EXPECT_EQ(upstream_.request_count(), 0);
  EXPECT_EQ(upstream_.tls_handshakes(), 0);
}

TEST_F(UpstreamTlsTest, TheCaFileMakesItTrusted) {
  AdapterConfig config = ConfigFor(upstream_.base_url());
  config.upstream_ca_file = dir_.Write("ca.pem", ca_.cert_pem());
  std::unique_ptr<AdapterServer> server = StartAdapter(config);
  ASSERT_NE(server, nullptr);

  const grpc::Status status = Call(*PlaintextStub(*server));

  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  ASSERT_EQ(upstream_.request_count(), 1);
  EXPECT_EQ(upstream_.requests()[0].target,
            "/v2/servicerequest/cases/case-1/instant-messages/msg-1/withdraw");
  EXPECT_EQ(upstream_.requests()[0].Header("X-Auth-Token"), kToken);
  EXPECT_EQ(upstream_.tls_failed_handshakes(), 0);
}

TEST(UpstreamTlsHostTest, ACertificateForAnotherHostIsNotTrustedEvenFromTheTrustedCa) {
  TempDir dir;
  TestCertificateAuthority ca("upstream test CA");
  const PemKeyPair other = ca.IssueServer("other.example", {"other.example"}, {});
  ScriptedUpstream upstream(UpstreamTls{other.cert_pem, other.key_pem});
  AdapterConfig config = ConfigFor(upstream.base_url());
  config.upstream_ca_file = dir.Write("ca.pem", ca.cert_pem());
  absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
  ASSERT_TRUE(server.ok()) << server.status();

  const grpc::Status status = Call(*PlaintextStub(**server));

  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(),
              StartsWith("OSM could not be reached: the upstream's TLS certificate was not "
                         "trusted: "));
  EXPECT_THAT(status.error_message(), HasSubstr("127.0.0.1"));
  EXPECT_EQ(upstream.request_count(), 0);
}

TEST_F(UpstreamTlsTest, ManyCallsShareOneConnectionAndOneHandshake) {
  AdapterConfig config = ConfigFor(upstream_.base_url());
  config.upstream_ca_file = dir_.Write("ca.pem", ca_.cert_pem());
  std::unique_ptr<AdapterServer> server = StartAdapter(config);
  ASSERT_NE(server, nullptr);
  auto stub = PlaintextStub(*server);

  constexpr int kCalls = 20;
  for (int i = 0; i < kCalls; ++i) {
    const grpc::Status status = Call(*stub);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
  }
  EXPECT_EQ(upstream_.request_count(), kCalls);
  EXPECT_EQ(upstream_.connections_accepted(), 1);
  EXPECT_EQ(upstream_.tls_handshakes(), 1);
}

// Each upstream loop has its own connections; the TLS session is shared, so
// a connection of the second loop resumes the session the first loop made.
TEST_F(UpstreamTlsTest, NewConnectionsResumeTheTlsSessionAcrossLoops) {
  AdapterConfig config = ConfigFor(upstream_.base_url());
  config.upstream_ca_file = dir_.Write("ca.pem", ca_.cert_pem());
  config.upstream_threads = 2;
  std::unique_ptr<AdapterServer> server = StartAdapter(config);
  ASSERT_NE(server, nullptr);
  auto stub = PlaintextStub(*server);

  // With nothing else in flight a call goes to the first loop: one full
  // handshake.
  ASSERT_TRUE(Call(*stub).ok());
  // The upstream holds the next call, which keeps the first loop busy, so
  // the call after it goes to the idle second loop, on a new connection.
  absl::Notification release;
  std::atomic<int> seen{0};
  upstream_.SetHandler([&](testing::UpstreamExchange& exchange) {
    if (seen.fetch_add(1) == 0) release.WaitForNotification();
    exchange.Respond(200, testing::kSuccessBody);
  });
  grpc::Status held;
  std::thread holder([&] { held = Call(*stub); });
  ASSERT_TRUE(upstream_.WaitForRequests(2));
  const grpc::Status second_loop = Call(*stub);
  release.Notify();
  holder.join();

  EXPECT_TRUE(held.ok()) << held.error_message();
  EXPECT_TRUE(second_loop.ok()) << second_loop.error_message();
  EXPECT_EQ(upstream_.request_count(), 3);
  EXPECT_EQ(upstream_.connections_accepted(), 2);
  EXPECT_EQ(upstream_.tls_handshakes(), 2);
  EXPECT_EQ(upstream_.tls_resumed_handshakes(), 1);
}

// ---- Listener: TLS and mutual TLS ------------------------------------------

class ListenerTlsTest : public ::testing::Test {
 protected:
  ListenerTlsTest()
      : server_ca_("listener test CA"),
        client_ca_("client test CA"),
        stranger_ca_("another CA"),
        server_pair_(server_ca_.IssueServer("adapter.test", {"localhost"}, {"127.0.0.1"})) {}

  AdapterConfig TlsConfig(bool require_client_certificates) {
    AdapterConfig config = ConfigFor(upstream_.base_url());
    config.tls.cert_file = dir_.Write("server.pem", server_pair_.cert_pem);
    config.tls.key_file = dir_.Write("server.key", server_pair_.key_pem);
    if (require_client_certificates) {
      config.tls.client_ca_file = dir_.Write("clients.pem", client_ca_.cert_pem());
    }
    return config;
  }

  // A stub that trusts the listener's CA and presents `client`, if any.
  std::unique_ptr<MessageService::Stub> TlsStub(const AdapterServer& server,
                                                const PemKeyPair* client = nullptr) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = server_ca_.cert_pem();
    if (client != nullptr) {
      options.pem_private_key = client->key_pem;
      options.pem_cert_chain = client->cert_pem;
    }
    return MessageService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                                                       grpc::SslCredentials(options)));
  }

  TempDir dir_;
  ScriptedUpstream upstream_;
  TestCertificateAuthority server_ca_;
  TestCertificateAuthority client_ca_;
  TestCertificateAuthority stranger_ca_;
  PemKeyPair server_pair_;
};

TEST_F(ListenerTlsTest, ServesTlsClientsAndRefusesPlaintext) {
  absl::StatusOr<std::unique_ptr<AdapterServer>> server =
      AdapterServer::Start(TlsConfig(/*require_client_certificates=*/false));
  ASSERT_TRUE(server.ok()) << server.status();

  const grpc::Status tls = Call(*TlsStub(**server));
  EXPECT_TRUE(tls.ok()) << tls.error_code() << ": " << tls.error_message();

  const grpc::Status plaintext = Call(*PlaintextStub(**server));
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(ListenerTlsTest, MutualTlsLetsInOnlyClientsWithACertificateFromTheClientCa) {
  absl::StatusOr<std::unique_ptr<AdapterServer>> server =
      AdapterServer::Start(TlsConfig(/*require_client_certificates=*/true));
  ASSERT_TRUE(server.ok()) << server.status();

  const PemKeyPair good = client_ca_.IssueClient("caller.test");
  const grpc::Status with_certificate = Call(*TlsStub(**server, &good));
  EXPECT_TRUE(with_certificate.ok())
      << with_certificate.error_code() << ": " << with_certificate.error_message();

  const grpc::Status without_certificate = Call(*TlsStub(**server));
  EXPECT_EQ(without_certificate.error_code(), grpc::StatusCode::UNAVAILABLE);

  const PemKeyPair stranger = stranger_ca_.IssueClient("stranger.test");
  const grpc::Status stranger_certificate = Call(*TlsStub(**server, &stranger));
  EXPECT_EQ(stranger_certificate.error_code(), grpc::StatusCode::UNAVAILABLE);

  // A certificate from the server's own CA is not a client certificate here.
  const PemKeyPair server_side = server_ca_.IssueClient("server-ca-client.test");
  const grpc::Status wrong_ca = Call(*TlsStub(**server, &server_side));
  EXPECT_EQ(wrong_ca.error_code(), grpc::StatusCode::UNAVAILABLE);

  EXPECT_EQ(upstream_.request_count(), 1);
}

TEST_F(ListenerTlsTest, UnusableFilesFailAtStartNamingTheFile) {
  const TestCertificateAuthority other_ca("other");
  const PemKeyPair other = other_ca.IssueServer("x", {"x"}, {});
  struct Case {
    std::string name;
    std::function<void(AdapterConfig&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"missing cert", [&](AdapterConfig& c) { c.tls.cert_file = dir_.File("none.pem"); },
       absl::StrCat("--tls_cert_file: cannot read ", dir_.File("none.pem"))},
      {"not a certificate",
       [&](AdapterConfig& c) { c.tls.cert_file = dir_.Write("junk.pem", "not PEM"); },
       absl::StrCat("--tls_cert_file: ", dir_.File("junk.pem"), " holds no PEM certificate")},
      {"not a key", [&](AdapterConfig& c) { c.tls.key_file = dir_.Write("junk.key", "not PEM"); },
       absl::StrCat("--tls_key_file: ", dir_.File("junk.key"),
                    " holds no PEM private key (an encrypted key is not supported)")},
      {"another certificate's key",
       [&](AdapterConfig& c) { c.tls.key_file = dir_.Write("other.key", other.key_pem); },
       absl::StrCat("--tls_key_file: ", dir_.File("other.key"),
                    " is not the key of the certificate in ", dir_.File("server.pem"))},
      {"no key", [&](AdapterConfig& c) { c.tls.key_file.clear(); },
       "--tls_key_file (OSM_ADAPTER_TLS_KEY_FILE): is required with --tls_cert_file"},
      {"client CA without TLS",
       [&](AdapterConfig& c) {
         c.tls.cert_file.clear();
         c.tls.key_file.clear();
         c.tls.client_ca_file = dir_.Write("clients.pem", client_ca_.cert_pem());
       },
       "--tls_client_ca_file (OSM_ADAPTER_TLS_CLIENT_CA_FILE): needs --tls_cert_file and "
       "--tls_key_file: client certificates are only asked for over TLS"},
      {"client CA not PEM",
       [&](AdapterConfig& c) { c.tls.client_ca_file = dir_.Write("junk-ca.pem", "nope"); },
       absl::StrCat("--tls_client_ca_file: ", dir_.File("junk-ca.pem"),
                    " holds no PEM certificate")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AdapterConfig config = TlsConfig(/*require_client_certificates=*/false);
    c.change(config);
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(server.status().message()), c.message);
    // Nothing of the key file's contents in the message.
    EXPECT_FALSE(absl::StrContains(server.status().message(), "PRIVATE KEY"));
  }
}

}  // namespace
}  // namespace osm
