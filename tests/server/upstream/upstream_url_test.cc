#include "server/upstream/upstream_url.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace osm {
namespace {

TEST(ParseUpstreamUrlTest, Accepted) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"https://osm.ap-southeast-3.myhuaweicloud.com",
       "https://osm.ap-southeast-3.myhuaweicloud.com"},
      {"https://osm.ap-southeast-3.myhuaweicloud.com/",
       "https://osm.ap-southeast-3.myhuaweicloud.com"},
      {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
      {"http://127.0.0.1:8080/prefix/", "http://127.0.0.1:8080/prefix"},
      {"http://127.0.0.1:8080/prefix", "http://127.0.0.1:8080/prefix"},
      {"https://osm.example.com/a/b/", "https://osm.example.com/a/b"},
      {"HTTPS://osm.example.com/", "https://osm.example.com"},
      {"Http://osm.example.com", "http://osm.example.com"},
      {"http://[::1]:9000/", "http://[::1]:9000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    const absl::StatusOr<UpstreamUrl> parsed = ParseUpstreamUrl(c.in);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->base(), c.out);
  }
}

TEST(ParseUpstreamUrlTest, Parts) {
  const absl::StatusOr<UpstreamUrl> parsed =
      ParseUpstreamUrl(" HTTPS://osm.example.com:8443/a/b/ ");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->scheme, "https");
  EXPECT_EQ(parsed->authority, "osm.example.com:8443");
  EXPECT_EQ(parsed->prefix, "/a/b");
}

TEST(ParseUpstreamUrlTest, Rejected) {
  const std::vector<std::string> cases = {
      "ftp://x",
      "file:///etc/passwd",
      "osm.example.com",
      "//osm.example.com",
      "https://user:pw@host",
      "https://user@host",
      "https://host/?q=1",
      "https://host?q=1",
      "https://host/#f",
      "https://",
      "http://",
      "",
      "   ",
  };
  for (const std::string& url : cases) {
    SCOPED_TRACE(url);
    const absl::StatusOr<UpstreamUrl> normalized = ParseUpstreamUrl(url);
    ASSERT_FALSE(normalized.ok()) << normalized->base();
    EXPECT_EQ(normalized.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseUpstreamUrlTest, RejectionDoesNotEchoPassword) {
  const absl::StatusOr<UpstreamUrl> normalized = ParseUpstreamUrl("https://user:S3CR3T-PW@host");
  ASSERT_FALSE(normalized.ok());
  EXPECT_EQ(std::string(normalized.status().message()).find("S3CR3T-PW"), std::string::npos)
      << normalized.status();
}

}  // namespace
}  // namespace osm
