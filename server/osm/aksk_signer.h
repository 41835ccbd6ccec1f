#ifndef OSM_SERVER_OSM_AKSK_SIGNER_H_
#define OSM_SERVER_OSM_AKSK_SIGNER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Huawei Cloud's "SDK-HMAC-SHA256" request signing (AK/SK), as pure
// functions: no clock, no I/O. The caller supplies the date.

namespace osm {

// An access key and what goes with it. The secret key never leaves the
// process; none of these values may be logged or put in a status.
struct AkSkCredentials {
  std::string access_key;      // AK: named in Authorization
  std::string secret_key;      // SK: the HMAC key, never sent
  std::string security_token;  // temporary credentials only: sent as X-Security-Token
  std::string domain_id;       // optional: sent as X-Domain-Id
};

inline constexpr absl::string_view kSigningAlgorithm = "SDK-HMAC-SHA256";

// One request as its signature sees it.
struct SignableRequest {
  std::string method;
  // As sent: percent-encoded, without the query.
  std::string path;
  // Decoded names and values.
  std::vector<std::pair<std::string, std::string>> query;
  // The headers to sign, names in any case, values as sent. Must include
  // X-Sdk-Date.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// `time` as X-Sdk-Date wants it: UTC "YYYYMMDDTHHMMSSZ".
std::string FormatSdkDate(absl::Time time);

// The path with every segment percent-decoded and re-encoded with only the
// unreserved set (A-Z a-z 0-9 - _ . ~) left as is, upper-case hex, always
// ending in "/".
std::string CanonicalUri(absl::string_view path);

// "name=value" pairs, each part encoded like a path segment, sorted by name
// then value, joined with "&".
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

// The lower-case header names, sorted, without repeats, joined with ";".
std::string SignedHeaderNames(const std::vector<std::pair<std::string, std::string>>& headers);

// METHOD, canonical URI, canonical query, one "name:trimmed-value\n" per
// header (sorted), signed header names and the hex SHA-256 of the body,
// joined with "\n".
absl::StatusOr<std::string> CanonicalRequest(const SignableRequest& request);

// "SDK-HMAC-SHA256\n<sdk_date>\n<hex SHA-256 of canonical_request>".
absl::StatusOr<std::string> StringToSign(absl::string_view sdk_date,
                                         absl::string_view canonical_request);

// Lower-case hex digests, computed by OpenSSL.
absl::StatusOr<std::string> HexSha256(absl::string_view data);
absl::StatusOr<std::string> HexHmacSha256(absl::string_view key, absl::string_view data);

// The signature of `request` and the Authorization header value that
// carries it: "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>,
// Signature=<hex>". Errors (a missing X-Sdk-Date header, an unusable access
// key) never quote the credentials.
struct RequestSignature {
  std::string signature;
  std::string authorization;
};
absl::StatusOr<RequestSignature> SignRequest(const SignableRequest& request,
                                             absl::string_view access_key,
                                             absl::string_view secret_key);

}  // namespace osm

#endif  // OSM_SERVER_OSM_AKSK_SIGNER_H_
