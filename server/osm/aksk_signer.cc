#include "server/osm/aksk_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/osm/upstream_request.h"

namespace osm {
namespace {

std::string Hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0F]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%XX" becomes its byte; a '%' not followed by two hex digits stays.
std::string PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

bool UsableAccessKey(absl::string_view access_key) {
  if (access_key.empty()) return false;
  for (char c : access_key) {
    const auto byte = static_cast<std::uint8_t>(c);
    // Printable ASCII without the separators of the Authorization header.
    if (byte <= 0x20 || byte >= 0x7F || c == ',' || c == '=') return false;
  }
  return true;
}

}  // namespace

std::string FormatSdkDate(absl::Time time) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", time, absl::UTCTimeZone());
}

std::string CanonicalUri(absl::string_view path) {
  std::vector<std::string> segments;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    segments.push_back(EncodePathSegment(PercentDecode(segment)));
  }
  std::string uri = absl::StrJoin(segments, "/");
  if (uri.empty() || uri.back() != '/') uri.push_back('/');
  return uri;
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> sorted = query;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> pairs;
  pairs.reserve(sorted.size());
  for (const auto& [name, value] : sorted) {
    pairs.push_back(absl::StrCat(EncodePathSegment(name), "=", EncodePathSegment(value)));
  }
  return absl::StrJoin(pairs, "&");
}

std::string SignedHeaderNames(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::string> names;
  names.reserve(headers.size());
  for (const auto& header : headers) names.push_back(absl::AsciiStrToLower(header.first));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return absl::StrJoin(names, ";");
}

absl::StatusOr<std::string> CanonicalRequest(const SignableRequest& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    if (name.empty()) return absl::InvalidArgumentError("a header to sign has no name");
    headers.emplace_back(absl::AsciiStrToLower(name),
                         std::string(absl::StripAsciiWhitespace(value)));
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers;
  for (const auto& [name, value] : headers)
    absl::StrAppend(&canonical_headers, name, ":", value, "\n");

  absl::StatusOr<std::string> body_hash = HexSha256(request.body);
  if (!body_hash.ok()) return body_hash.status();
  return absl::StrCat(request.method, "\n", CanonicalUri(request.path), "\n",
                      CanonicalQueryString(request.query), "\n", canonical_headers, "\n",
                      SignedHeaderNames(request.headers), "\n", *body_hash);
}

absl::StatusOr<std::string> StringToSign(absl::string_view sdk_date,
                                         absl::string_view canonical_request) {
  absl::StatusOr<std::string> hash = HexSha256(canonical_request);
  if (!hash.ok()) return hash.status();
  return absl::StrCat(kSigningAlgorithm, "\n", sdk_date, "\n", *hash);
}

absl::StatusOr<std::string> HexSha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("SHA-256 failed (OpenSSL)");
  }
  return Hex(digest, size);
}

absl::StatusOr<std::string> HexHmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
           &size) == nullptr) {
    return absl::InternalError("HMAC-SHA256 failed (OpenSSL)");
  }
  return Hex(mac, size);
}

absl::StatusOr<RequestSignature> SignRequest(const SignableRequest& request,
                                             absl::string_view access_key,
                                             absl::string_view secret_key) {
  if (!UsableAccessKey(access_key)) {
    return absl::InvalidArgumentError(
        "the access key is empty or has characters other than printable ASCII, or , or =");
  }
  if (secret_key.empty()) return absl::InvalidArgumentError("the secret key is empty");
  const auto date = std::find_if(
      request.headers.begin(), request.headers.end(),
      [](const auto& header) { return absl::EqualsIgnoreCase(header.first, "x-sdk-date"); });
  if (date == request.headers.end()) {
    return absl::InvalidArgumentError("X-Sdk-Date must be among the signed headers");
  }
  absl::StatusOr<std::string> canonical = CanonicalRequest(request);
  if (!canonical.ok()) return canonical.status();
  absl::StatusOr<std::string> to_sign =
      StringToSign(absl::StripAsciiWhitespace(date->second), *canonical);
  if (!to_sign.ok()) return to_sign.status();
  absl::StatusOr<std::string> signature = HexHmacSha256(secret_key, *to_sign);
  if (!signature.ok()) return signature.status();
  RequestSignature out;
  out.authorization = absl::StrCat(kSigningAlgorithm, " Access=", access_key,
                                   ", SignedHeaders=", SignedHeaderNames(request.headers),
                                   ", Signature=", *signature);
  out.signature = *std::move(signature);
  return out;
}

}  // namespace osm
