#include "server/app/listener_security.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace osm {
namespace {

TEST(IsLocalOnlyListenAddressTest, Table) {
  const std::vector<std::string> local = {
      "127.0.0.1:50051",
      "127.1.2.3:0",
      "[::1]:50051",
      "localhost:50051",
      "LOCALHOST:1",
      "[::ffff:127.0.0.1]:50051",
      "unix:/run/osm/adapter.sock",
      "unix-abstract:osm",
  };
  for (const std::string& listen : local) {
    EXPECT_TRUE(IsLocalOnlyListenAddress(listen)) << listen;
  }
  const std::vector<std::string> reachable = {
      "[::]:50051",
      "0.0.0.0:50051",
      "10.0.0.1:50051",
      "192.168.1.1:0",
      "[fe80::1]:50051",
      "[::ffff:10.0.0.1]:50051",
      "osm.example.com:50051",
      "128.0.0.1:50051",
      "localhost.example.com:1",
      "[::1:50051",
      "50051",
      "",
      "ipv4:127.0.0.1:50051",
  };
  for (const std::string& listen : reachable) {
    EXPECT_FALSE(IsLocalOnlyListenAddress(listen)) << listen;
  }
}

TEST(CheckSigningListenerTest, AnOpenListenerNeedsClientCertificatesOrTheOperatorsWord) {
  EXPECT_TRUE(CheckSigningListener("127.0.0.1:50051", false, false).ok());
  EXPECT_TRUE(CheckSigningListener("unix:/run/osm.sock", false, false).ok());
  EXPECT_TRUE(
      CheckSigningListener("[::]:50051", /*client_certificates_required=*/true, false).ok());
  EXPECT_TRUE(CheckSigningListener("[::]:50051", false, /*trust_network_callers=*/true).ok());

  const absl::Status open = CheckSigningListener("[::]:50051", false, false);
  EXPECT_EQ(open.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(open.message()),
            "the adapter signs upstream requests with its access key, so whoever reaches "
            "[::]:50051 acts as the account: require client certificates "
            "(--tls_client_ca_file), listen on loopback or a unix: socket, or state that the "
            "network in front authorizes callers (--trust_network_callers)");
}

TEST(ListenerCredentialsTest, PlaintextWithoutFilesAndNoEndlessReads) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> plaintext =
      ListenerCredentials(ListenerTlsFiles{});
  ASSERT_TRUE(plaintext.ok()) << plaintext.status();
  EXPECT_NE(*plaintext, nullptr);

  // A device that never ends is refused after the size limit.
  ListenerTlsFiles endless;
  endless.cert_file = "/dev/zero";
  endless.key_file = "/dev/zero";
  const absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> refused =
      ListenerCredentials(endless);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(std::string(refused.status().message()),
            "--tls_cert_file: /dev/zero is larger than 1 MiB");
}

}  // namespace
}  // namespace osm
