#include "server/osm/osm_error_codes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"

namespace osm {
namespace {

using grpc::StatusCode;

// Every code in the OSM API reference, with the gRPC code that
// message_service.proto documents for it.
struct Expected {
  std::string code;
  StatusCode grpc_code;
  bool http_status_decides;
};

const std::vector<Expected>& ReferenceCodes() {
  static const auto* codes = new std::vector<Expected>{
      {"OSM.01010001", StatusCode::INVALID_ARGUMENT, false},
      {"OSM.01010002", StatusCode::PERMISSION_DENIED, false},
      {"OSM.01010011", StatusCode::UNAUTHENTICATED, false},
      {"OSM.01010014", StatusCode::INTERNAL, false},
      {"OSM.01010015", StatusCode::NOT_FOUND, false},
      {"OSM.0001", StatusCode::INVALID_ARGUMENT, false},
      {"OSM.0002", StatusCode::UNAUTHENTICATED, false},
      {"OSM.0003", StatusCode::PERMISSION_DENIED, false},
      {"OSM.0004", StatusCode::INTERNAL, false},
      {"APIGW.0101", StatusCode::UNIMPLEMENTED, false},
      {"APIGW.0201", StatusCode::INVALID_ARGUMENT, true},
      {"APIGW.0301", StatusCode::UNAUTHENTICATED, false},
      {"APIGW.0303", StatusCode::UNAUTHENTICATED, false},
      {"APIGW.0308", StatusCode::RESOURCE_EXHAUSTED, false},
  };
  return *codes;
}

TEST(OsmErrorCodesTest, EveryReferenceCodeIsKnownWithDocumentedMapping) {
  for (const Expected& expected : ReferenceCodes()) {
    SCOPED_TRACE(expected.code);
    const OsmErrorCode* entry = FindOsmErrorCode(expected.code);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(std::string(entry->code), expected.code);
    EXPECT_EQ(entry->grpc_code, expected.grpc_code);
    EXPECT_EQ(entry->http_status_decides, expected.http_status_decides);
    bool listed = false;
    for (const OsmErrorCode& known : KnownOsmErrorCodes()) {
      if (std::string(known.code) == expected.code) listed = true;
    }
    EXPECT_TRUE(listed);
  }
}

TEST(OsmErrorCodesTest, TableEntriesAreWellFormed) {
  // AIP-193: [A-Z][A-Z0-9_]+[A-Z0-9]. (Checked by hand: GCC 12 warns
  // inside <regex> under the sanitizers.)
  auto is_reason = [](const std::string& text) {
    if (text.size() < 3 || !absl::ascii_isupper(static_cast<unsigned char>(text.front()))) {
      return false;
    }
    const char last = text.back();
    if (!absl::ascii_isupper(static_cast<unsigned char>(last)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(last))) {
      return false;
    }
    for (char c : text) {
      if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
          !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_') {
        return false;
      }
    }
    return true;
  };
  std::set<std::string> codes;
  ASSERT_FALSE(KnownOsmErrorCodes().empty());
  for (const OsmErrorCode& entry : KnownOsmErrorCodes()) {
    const std::string code(entry.code);
    const std::string reason(entry.reason);
    SCOPED_TRACE(code);
    EXPECT_TRUE(codes.insert(code).second) << "duplicate code";
    EXPECT_TRUE(is_reason(reason)) << reason;
    EXPECT_LE(reason.size(), 63u);
    EXPECT_FALSE(entry.meaning.empty());
    EXPECT_NE(entry.grpc_code, StatusCode::OK);
    EXPECT_NE(entry.grpc_code, StatusCode::UNKNOWN);
    // Each table entry is what FindOsmErrorCode returns for it.
    EXPECT_EQ(FindOsmErrorCode(entry.code), &entry);
  }
}

TEST(OsmErrorCodesTest, FindIsExactMatch) {
  const std::vector<std::string> misses = {
      "",
      "osm.01010015",
      "Osm.01010015",
      "apigw.0301",
      " OSM.01010015",
      "OSM.01010015 ",
      "OSM.01010015\n",
      "OSM.0101001",
      "OSM.010100150",
      std::string("OSM.01010015\0x", 14),
      "OSM",
      "OSM.",
      "APIGW.0301x",
      "OSM.99999999",
  };
  for (const std::string& code : misses) {
    SCOPED_TRACE(code);
    EXPECT_EQ(FindOsmErrorCode(code), nullptr);
  }
  // A string_view that is a prefix of a longer buffer matches on its own bytes.
  const std::string longer = "OSM.01010015-and-more";
  const OsmErrorCode* entry = FindOsmErrorCode(absl::string_view(longer).substr(0, 12));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(std::string(entry->code), "OSM.01010015");
}

}  // namespace
}  // namespace osm
