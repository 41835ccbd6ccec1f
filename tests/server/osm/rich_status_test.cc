#include "server/osm/rich_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/support/status_details.h"
#include "tests/support/text_checks.h"

namespace osm {
namespace {

using osm::testing::DecodedDetails;
using osm::testing::DecodeDetails;
using osm::testing::IsValidUtf8;
using std::string_literals::operator""s;

bool HasAsciiControl(const std::string& s) {
  for (char c : s) {
    const auto byte = static_cast<std::uint8_t>(c);
    if (byte < 0x20 || byte == 0x7F) return true;
  }
  return false;
}

const std::string kFffd = "\xEF\xBF\xBD";
const std::string kEAcute = "\xC3\xA9";        // é, 2 bytes
const std::string kEuro = "\xE2\x82\xAC";      // €, 3 bytes
const std::string kGrin = "\xF0\x9F\x98\x80";  // 😀, 4 bytes

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(MakeRichStatusTest, RoundTrip) {
  google::rpc::ErrorInfo info;
  info.set_reason("SOME_REASON");
  info.set_domain("osm-grpc-adapter");
  (*info.mutable_metadata())["httpStatus"] = "404";
  google::rpc::RequestInfo request_info;
  request_info.set_request_id("req-1");
  google::rpc::RetryInfo retry_info;
  retry_info.mutable_retry_delay()->set_seconds(7);
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field("case_id");
  violation->set_description("is required");

  const grpc::Status status = MakeRichStatus(grpc::StatusCode::NOT_FOUND, "not there", info,
                                             {&request_info, nullptr, &retry_info, &bad_request});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "not there");

  google::rpc::Status decoded;
  ASSERT_TRUE(decoded.ParseFromString(status.error_details()));
  EXPECT_EQ(decoded.code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(decoded.message(), "not there");
  ASSERT_EQ(decoded.details_size(), 4);  // the null entry is skipped
  EXPECT_TRUE(decoded.details(0).Is<google::rpc::ErrorInfo>());
  EXPECT_TRUE(decoded.details(1).Is<google::rpc::RequestInfo>());
  EXPECT_TRUE(decoded.details(2).Is<google::rpc::RetryInfo>());
  EXPECT_TRUE(decoded.details(3).Is<google::rpc::BadRequest>());

  const DecodedDetails details = DecodeDetails(status);
  ASSERT_TRUE(details.present);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "SOME_REASON");
  EXPECT_EQ(details.error_infos[0].domain(), "osm-grpc-adapter");
  EXPECT_EQ(details.error_infos[0].metadata().at("httpStatus"), "404");
  ASSERT_EQ(details.request_infos.size(), 1u);
  EXPECT_EQ(details.request_infos[0].request_id(), "req-1");
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), 7);
  ASSERT_EQ(details.bad_requests.size(), 1u);
  ASSERT_EQ(details.bad_requests[0].field_violations_size(), 1);
  EXPECT_EQ(details.bad_requests[0].field_violations(0).field(), "case_id");
  EXPECT_TRUE(details.other_type_urls.empty());
}

TEST(MakeRichStatusTest, ErrorInfoOnly) {
  google::rpc::ErrorInfo info;
  info.set_reason("R");
  for (const auto code : {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::UNAVAILABLE,
                          grpc::StatusCode::UNKNOWN}) {
    SCOPED_TRACE(static_cast<int>(code));
    const grpc::Status status = MakeRichStatus(code, "m", info);
    EXPECT_EQ(status.error_code(), code);
    google::rpc::Status decoded;
    ASSERT_TRUE(decoded.ParseFromString(status.error_details()));
    EXPECT_EQ(decoded.code(), static_cast<int>(code));
    ASSERT_EQ(decoded.details_size(), 1);
    EXPECT_TRUE(decoded.details(0).Is<google::rpc::ErrorInfo>());
  }
}

// The same error has the same bytes every time: ErrorInfo.metadata (a map)
// is written with its keys sorted, not in hash order.
TEST(MakeRichStatusTest, TheSameErrorHasTheSameBytesWithMetadataSorted) {
  google::rpc::ErrorInfo info;
  info.set_reason("CASE_NOT_FOUND");
  for (const char* key : {"requestId", "errorCode", "httpStatus", "zeta", "alpha", "mid"}) {
    (*info.mutable_metadata())[key] = key;
  }
  const std::string first = MakeRichStatus(grpc::StatusCode::NOT_FOUND, "m", info).error_details();
  for (int i = 0; i < 20; ++i) {
    google::rpc::ErrorInfo copy = info;  // a new map, possibly another order
    EXPECT_EQ(MakeRichStatus(grpc::StatusCode::NOT_FOUND, "m", copy).error_details(), first);
  }
  google::rpc::Status decoded;
  ASSERT_TRUE(decoded.ParseFromString(first));
  ASSERT_EQ(decoded.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
  // Map entries are field 3 of ErrorInfo; each entry's key is its field 1.
  const std::string& bytes = decoded.details(0).value();
  std::vector<std::size_t> at;
  for (const char* key : {"alpha", "errorCode", "httpStatus", "mid", "requestId", "zeta"}) {
    at.push_back(bytes.find(std::string("\x0a") + static_cast<char>(std::strlen(key)) + key));
    ASSERT_NE(at.back(), std::string::npos) << key;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));
}

TEST(MakeRichStatusTest, MessageIsSanitizedAndBoundedInBothPlaces) {
  google::rpc::ErrorInfo info;
  info.set_reason("R");
  const std::string message = "line1\nline2\xFF" + Repeat(kEuro, 2000);
  const grpc::Status status = MakeRichStatus(grpc::StatusCode::INTERNAL, message, info);
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_TRUE(IsValidUtf8(status.error_message()));
  EXPECT_FALSE(HasAsciiControl(status.error_message()));
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("line1 line2" + kFffd + kEuro));
  EXPECT_THAT(status.error_message(), ::testing::EndsWith("..."));
  google::rpc::Status decoded;
  ASSERT_TRUE(decoded.ParseFromString(status.error_details()));
  EXPECT_EQ(decoded.message(), status.error_message());
}

TEST(SanitizeTextTest, Table) {
  struct Case {
    std::string name;
    std::string text;
    std::size_t max_bytes;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"empty", "", 10, ""},
      {"plain", "hello", 10, "hello"},
      {"newline, CR, tab", "a\nb\rc\td", 100, "a b c d"},
      {"NUL", "a\0b"s, 100, "a b"},
      {"DEL",
       "a\x7f"
       "b",
       100, "a b"},
      {"ESC and US", "\x1b[31m\x1f", 100, " [31m "},
      {"lone invalid byte",
       "a\xFF"
       "b",
       100, "a" + kFffd + "b"},
      {"lone continuation byte", "\x80", 100, kFffd},
      {"truncated sequence at the end", "a\xC3", 100, "a" + kFffd},
      {"truncated 3-byte sequence before ASCII", "\xE2\x82z", 100, kFffd + kFffd + "z"},
      {"overlong slash", "\xC0\xAF", 100, kFffd + kFffd},
      {"surrogate", "\xED\xA0\x80", 100, kFffd + kFffd + kFffd},
      {"above U+10FFFF", "\xF4\x90\x80\x80", 100, kFffd + kFffd + kFffd + kFffd},
      {"valid multi-byte kept", kEAcute + kEuro + kGrin, 100, kEAcute + kEuro + kGrin},
      {"exact length kept whole", "abcde", 5, "abcde"},
      {"exact length multi-byte kept whole", Repeat(kEAcute, 3), 6, Repeat(kEAcute, 3)},
      {"exact length 4-byte kept whole", kGrin, 4, kGrin},
      {"one byte over is cut", "abcdef", 5, "ab..."},
      {"long ASCII cut", std::string(2000, 'x'), 1024, std::string(1021, 'x') + "..."},
      {"2-byte char not split", Repeat(kEAcute, 4), 6, kEAcute + "..."},
      {"3-byte char not split", Repeat(kEuro, 3), 7, kEuro + "..."},
      {"4-byte char not split", Repeat(kGrin, 3), 10, kGrin + "..."},
      {"nothing fits before the ellipsis", Repeat(kGrin, 2), 6, "..."},
      {"replacement chars are cut whole", "\xFF\xFF", 5, "..."},
      {"cut just after control replaced", "ab\ncdefgh", 6, "ab ..."},
      {"max exactly 3, too long", "abcd", 3, "..."},
      {"max 3, fits", "abc", 3, "abc"},
      {"max 2, fits", "ab", 2, "ab"},
      {"max 0, empty", "", 0, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string out = SanitizeText(c.text, c.max_bytes);
    EXPECT_EQ(out, c.expected);
    EXPECT_LE(out.size(), c.max_bytes);
    EXPECT_TRUE(IsValidUtf8(out));
  }
}

TEST(SanitizeTextTest, MaxSmallerThanEllipsis) {
  // Too long for `max_bytes`, which cannot even hold "...": the result still
  // respects the bound and is valid UTF-8.
  for (std::size_t max : {0u, 1u, 2u}) {
    for (const std::string& text :
         {std::string("abcdef"), Repeat(kEuro, 3), std::string("\n\n\n\n")}) {
      SCOPED_TRACE(std::to_string(max) + " " + text);
      const std::string out = SanitizeText(text, max);
      EXPECT_LE(out.size(), max);
      EXPECT_TRUE(IsValidUtf8(out));
      EXPECT_FALSE(HasAsciiControl(out));
    }
  }
}

TEST(SanitizeTextTest, InvariantsOverManyInputs) {
  // Every output is valid UTF-8, free of ASCII control characters, within
  // the bound, and either the whole (sanitized) text or a cut ending in "...".
  std::vector<std::string> pieces = {"a",   "\n",  "\0"s,  "\x7f",     "\xFF", "\x80", kEAcute,
                                     kEuro, kGrin, "\xC3", "\xE2\x82", " ",    "~"};
  std::uint32_t seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    seed = seed * 1103515245u + 12345u;
    const int length = static_cast<int>((seed >> 16) % 40);
    for (int i = 0; i < length; ++i) {
      seed = seed * 1103515245u + 12345u;
      text += pieces[(seed >> 16) % pieces.size()];
    }
    seed = seed * 1103515245u + 12345u;
    const std::size_t max = (seed >> 16) % 64;
    const std::string out = SanitizeText(text, max);
    const std::string whole = SanitizeText(text, 1 << 20);
    SCOPED_TRACE(::testing::PrintToString(text) + " max " + std::to_string(max));
    ASSERT_LE(out.size(), max);
    ASSERT_TRUE(IsValidUtf8(out));
    ASSERT_FALSE(HasAsciiControl(out));
    if (whole.size() <= max) {
      ASSERT_EQ(out, whole);
    } else if (max >= 3) {
      ASSERT_THAT(out, ::testing::EndsWith("..."));
      ASSERT_EQ(whole.compare(0, out.size() - 3, out, 0, out.size() - 3), 0);
      // As much as fits: adding the next character would overflow.
      ASSERT_GT(out.size() + 4, max);
    }
  }
}

// Unicode's C1 controls (U+0080..U+009F, e.g. NEL U+0085) are control
// characters too (general category Cc), as are the ASCII ones.
TEST(SanitizeTextTest, C1ControlCharactersBecomeSpaces) {
  EXPECT_EQ(SanitizeText("a\xC2\x85"
                         "b",
                         100),
            "a b");
  EXPECT_EQ(SanitizeText("\xC2\x80\xC2\x9F", 100), "  ");
}

}  // namespace
}  // namespace osm
