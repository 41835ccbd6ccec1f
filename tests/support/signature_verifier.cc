#include "tests/support/signature_verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace osm::testing {
namespace {

absl::Status Reject(absl::string_view why) { return absl::UnauthenticatedError(why); }

std::string ToHex(const unsigned char* bytes, std::size_t size) {
  std::string out;
  char pair[3];
  for (std::size_t i = 0; i < size; ++i) {
    std::snprintf(pair, sizeof(pair), "%02x", bytes[i]);
    out += pair;
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, data.data(), data.size(), digest, &size) != 1) {
    return "";
  }
  return ToHex(digest, size);
}

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof(mac),
                &size) == nullptr) {
    return "";
  }
  return ToHex(mac, size);
}

// RFC 3986 percent-decoding; a '%' without two hex digits stays as it is.
std::string Unescape(absl::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Everything but ALPHA / DIGIT / "-" / "_" / "." / "~" as %XX, upper case.
std::string Escape(absl::string_view text) {
  std::string out;
  char triple[4];
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 && c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(triple, sizeof(triple), "%%%02X", c);
      out += triple;
    }
  }
  return out;
}

std::string CanonicalPath(absl::string_view path) {
  std::string out;
  bool first = true;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (!first) out.push_back('/');
    first = false;
    out += Escape(Unescape(segment));
  }
  if (out.empty() || out.back() != '/') out.push_back('/');
  return out;
}

std::string CanonicalQuery(absl::string_view query) {
  if (query.empty()) return "";
  std::multimap<std::string, std::string> sorted;
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    sorted.emplace(Unescape(parts.first), Unescape(parts.second));
  }
  std::vector<std::pair<std::string, std::string>> pairs(sorted.begin(), sorted.end());
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += Escape(name) + "=" + Escape(value);
  }
  return out;
}

}  // namespace

std::optional<absl::Time> ParseSdkDate(absl::string_view text) {
  int year, month, day, hour, minute, second;
  char t, z, end;
  if (text.size() != 16 ||
      std::sscanf(std::string(text).c_str(), "%4d%2d%2d%c%2d%2d%2d%c%c", &year, &month, &day, &t,
                  &hour, &minute, &second, &z, &end) != 8 ||
      t != 'T' || z != 'Z') {
    return std::nullopt;
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  // CivilSecond normalizes 13/45 and the like: refuse instead.
  if (civil.month() != month || civil.day() != day || civil.hour() != hour ||
      civil.minute() != minute || civil.second() != second) {
    return std::nullopt;
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

absl::StatusOr<ReceivedAuthorization> ParseAuthorization(absl::string_view value) {
  if (!absl::ConsumePrefix(&value, "SDK-HMAC-SHA256 ")) {
    return Reject("Authorization does not start with \"SDK-HMAC-SHA256 \"");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(value, ", ");
  if (parts.size() != 3 || !absl::ConsumePrefix(&parts[0], "Access=") ||
      !absl::ConsumePrefix(&parts[1], "SignedHeaders=") ||
      !absl::ConsumePrefix(&parts[2], "Signature=")) {
    return Reject("Authorization is not \"Access=..., SignedHeaders=..., Signature=...\"");
  }
  ReceivedAuthorization parsed;
  parsed.access_key = std::string(parts[0]);
  parsed.signed_headers = absl::StrSplit(parts[1], ';');
  parsed.signature = std::string(parts[2]);
  return parsed;
}

absl::Status VerifySignedRequest(const RecordedRequest& request, absl::string_view access_key,
                                 absl::string_view secret_key, absl::Time now,
                                 absl::Duration max_skew) {
  if (request.HeaderCount("Authorization") != 1) return Reject("not exactly one Authorization");
  absl::StatusOr<ReceivedAuthorization> authorization =
      ParseAuthorization(*request.Header("Authorization"));
  if (!authorization.ok()) return authorization.status();
  if (authorization->access_key != access_key) return Reject("unknown access key");

  const std::vector<std::string>& names = authorization->signed_headers;
  if (!std::is_sorted(names.begin(), names.end()) ||
      std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return Reject("SignedHeaders are not sorted and unique");
  }
  if (std::find(names.begin(), names.end(), "x-sdk-date") == names.end()) {
    return Reject("x-sdk-date is not signed");
  }
  std::string canonical_headers;
  for (const std::string& name : names) {
    if (name != absl::AsciiStrToLower(name))
      return Reject("a signed header name is not lower case");
    if (request.HeaderCount(name) != 1) {
      return Reject(absl::StrCat("signed header ", name, " is not sent exactly once"));
    }
    canonical_headers +=
        name + ":" + std::string(absl::StripAsciiWhitespace(*request.Header(name))) + "\n";
  }

  const std::string date(absl::StripAsciiWhitespace(*request.Header("X-Sdk-Date")));
  const std::optional<absl::Time> signed_at = ParseSdkDate(date);
  if (!signed_at) return Reject("X-Sdk-Date is not YYYYMMDDTHHMMSSZ");
  if (absl::AbsDuration(now - *signed_at) > max_skew) return Reject("X-Sdk-Date is too far off");

  const std::size_t question = request.target.find('?');
  const absl::string_view target(request.target);
  const std::string canonical_request =
      request.method + "\n" + CanonicalPath(target.substr(0, question)) + "\n" +
      CanonicalQuery(question == absl::string_view::npos ? "" : target.substr(question + 1)) +
      "\n" + canonical_headers + "\n" + absl::StrJoin(names, ";") + "\n" + Sha256Hex(request.body);
  const std::string string_to_sign =
      "SDK-HMAC-SHA256\n" + date + "\n" + Sha256Hex(canonical_request);
  const std::string expected = HmacSha256Hex(secret_key, string_to_sign);
  if (expected.empty() || expected.size() != authorization->signature.size() ||
      CRYPTO_memcmp(expected.data(), authorization->signature.data(), expected.size()) != 0) {
    return Reject("the signature does not match");
  }
  return absl::OkStatus();
}

}  // namespace osm::testing
