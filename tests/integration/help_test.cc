// Each program's --help lists exactly its own flags, with their defaults,
// and no source path of the build machine.

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/run_command.h"

namespace osm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCommand;

// The flags a --help output lists ("    --name (help); default: ...").
std::vector<std::string> ListedFlags(const std::string& help) {
  std::vector<std::string> flags;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (absl::ConsumePrefix(&line, "    --")) {
      flags.emplace_back(line.substr(0, line.find(' ')));
    }
  }
  return flags;
}

TEST(HelpTest, OsmAdapterListsItsOwnFlagsOnlyWithTheirVariables) {
  const auto [exit_code, help] = RunCommand(absl::StrCat(OSM_ADAPTER_BINARY, " --help"));
  EXPECT_EQ(exit_code, 0);
  const std::vector<std::string> flags = ListedFlags(help);
  EXPECT_EQ(flags.size(), 34u) << help;
  EXPECT_EQ(std::set<std::string>(flags.begin(), flags.end()).size(), flags.size());
  for (const char* flag : {"listen", "upstream", "max_in_flight", "grpc_memory_quota_mib",
                           "credentials_file", "tls_client_ca_file", "handshake_timeout"}) {
    EXPECT_THAT(flags, ::testing::Contains(flag));
  }
  // Nothing of a library's flags, nothing of the build tree.
  EXPECT_THAT(flags, Not(::testing::Contains("flagfile")));
  EXPECT_THAT(help, Not(HasSubstr("Flags from")));
  EXPECT_THAT(help, Not(HasSubstr(".cc")));
  EXPECT_THAT(help, HasSubstr("--listen (gRPC listen address: HOST:PORT (port 0 picks a free one) "
                              "or unix:PATH); default: \"[::]:50051\";"));
  EXPECT_THAT(help, HasSubstr("OSM_ADAPTER_<FLAG IN UPPER CASE>"));
}

TEST(HelpTest, OsmWithdrawListsItsFlags) {
  const auto [exit_code, help] = RunCommand(absl::StrCat(OSM_WITHDRAW_BINARY, " --help"));
  EXPECT_EQ(exit_code, 0);
  EXPECT_THAT(
      ListedFlags(help),
      ::testing::ElementsAre("target", "case_id", "message_id", "language", "time_zone", "timeout",
                             "token", "tls_ca_file", "tls_cert_file", "tls_key_file", "json"));
  EXPECT_THAT(help,
              HasSubstr("--target (adapter address, HOST:PORT); default: \"localhost:50051\";"));
  EXPECT_THAT(help, Not(HasSubstr("Flags from")));
}

// A key without its certificate (or the reverse) is a usage error, never a
// call in plaintext.
TEST(HelpTest, OsmWithdrawRefusesHalfAClientCertificate) {
  for (const char* flag :
       {"--tls_key_file=/nonexistent/key.pem", "--tls_cert_file=/nonexistent/cert.pem"}) {
    SCOPED_TRACE(flag);
    const auto [exit_code, output] = RunCommand(absl::StrCat(
        OSM_WITHDRAW_BINARY, " --target=127.0.0.1:1 --case_id=c --message_id=m ", flag));
    EXPECT_EQ(exit_code, 64);
    EXPECT_THAT(output, HasSubstr("--tls_cert_file and --tls_key_file go together"));
  }
}

}  // namespace
}  // namespace osm
