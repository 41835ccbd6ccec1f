#include "server/upstream/upstream_url.h"

#include <curl/curl.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/upstream/curl_handles.h"

namespace osm {
namespace {

// A part of a parsed URL, or "" when absent.
std::string Part(const CurlUrlHandle& url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url.get(), part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

absl::StatusOr<UpstreamUrl> ParseUpstreamUrl(absl::string_view url) {
  const std::string text(absl::StripAsciiWhitespace(url));
  const std::string lower = absl::AsciiStrToLower(text);
  if (!absl::StartsWith(lower, "http://") && !absl::StartsWith(lower, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream URL must start with https:// or http://, got \"", text, "\""));
  }
  CurlUrlHandle parsed(curl_url());
  if (parsed == nullptr ||
      curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream URL is not a valid URL: \"", text, "\""));
  }
  UpstreamUrl out;
  const std::string host = Part(parsed, CURLUPART_HOST);
  if (host.empty()) return absl::InvalidArgumentError("upstream URL has no host");
  if (!Part(parsed, CURLUPART_USER).empty() || !Part(parsed, CURLUPART_PASSWORD).empty()) {
    return absl::InvalidArgumentError("upstream URL must not carry user information");
  }
  if (!Part(parsed, CURLUPART_QUERY).empty() || !Part(parsed, CURLUPART_FRAGMENT).empty()) {
    return absl::InvalidArgumentError("upstream URL must not have a query or a fragment");
  }
  out.scheme = Part(parsed, CURLUPART_SCHEME);
  out.authority = host;
  if (const std::string port = Part(parsed, CURLUPART_PORT); !port.empty()) {
    absl::StrAppend(&out.authority, ":", port);
  }
  out.prefix = std::string(absl::StripSuffix(Part(parsed, CURLUPART_PATH), "/"));
  return out;
}

}  // namespace osm
