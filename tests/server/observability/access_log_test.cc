#include "server/observability/access_log.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace osm {
namespace {

using testing::TempDir;

AccessLogEntry Entry() {
  AccessLogEntry entry;
  entry.time = absl::FromUnixMillis(1795700000123);
  entry.case_id = "case-1";
  entry.message_id = "msg-\"1\"\n";
  entry.code = grpc::StatusCode::NOT_FOUND;
  entry.reason = "CASE_NOT_FOUND";
  entry.http_status = 200;
  entry.error_code = "OSM.01010015";
  entry.request_id = "req-9";
  entry.upstream = absl::Microseconds(1500);
  entry.total = absl::Microseconds(2250);
  entry.peer = "ipv4:127.0.0.1:5000";
  return entry;
}

TEST(AccessLogTest, FormatsOneJsonLine) {
  EXPECT_EQ(
      FormatAccessLogLine(Entry()),
      "{\"time\":\"2026-11-26T13:33:20.123Z\",\"log\":\"access\",\"method\":\"Withdraw\","
      "\"case_id\":\"case-1\",\"message_id\":\"msg-\\\"1\\\"\\n\",\"grpc_code\":\"NOT_FOUND\","
      "\"reason\":\"CASE_NOT_FOUND\",\"http_status\":200,\"error_code\":\"OSM.01010015\","
      "\"request_id\":\"req-9\",\"upstream_ms\":1.5,\"total_ms\":2.25,"
      "\"peer\":\"ipv4:127.0.0.1:5000\"}\n");
}

TEST(AccessLogTest, LongCallerValuesAreCut) {
  AccessLogEntry entry = Entry();
  const std::string huge(100000, 'c');
  entry.case_id = huge;
  const std::string line = FormatAccessLogLine(entry);
  EXPECT_LT(line.size(), 1000u);
  EXPECT_THAT(line,
              ::testing::HasSubstr(absl::StrCat("\"case_id\":\"", std::string(128, 'c'), "\"")));
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

TEST(AccessLogTest, WritesEveryLineByTheTimeItIsDestroyed) {
  TempDir dir;
  const std::string path = dir.File("access.log");
  {
    absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 10000; ++i) (*log)->Write(Entry());
    EXPECT_EQ((*log)->dropped_lines(), 0u);
  }
  const std::vector<std::string> lines = absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 10000u);
}

TEST(AccessLogTest, DropsAndCountsInsteadOfGrowingWithoutBound) {
  TempDir dir;
  const std::string path = dir.File("access.log");
  const std::size_t line_size = FormatAccessLogLine(Entry()).size();
  std::uint64_t dropped = 0;
  {
    // Room for three lines only; the writer flushes every 200 ms, so it can
    // catch up only a few times during these writes, however loaded the
    // machine (each catch-up lets at most three more lines in).
    absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path, 3 * line_size);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 1000; ++i) (*log)->Write(Entry());
    dropped = (*log)->dropped_lines();
    EXPECT_GE(dropped, 1000u - 3 * 10);
    EXPECT_LE(dropped, 997u);
  }
  // Every line was either written or counted as dropped, none both.
  const std::vector<std::string> lines = absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size() + dropped, 1000u);
}

TEST(AccessLogTest, UnwritablePathIsAClearError) {
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open("/nonexistent-dir/a.log");
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), ::testing::HasSubstr("--access_log: cannot open"));
}

}  // namespace
}  // namespace osm
