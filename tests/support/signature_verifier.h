#ifndef OSM_TESTS_SUPPORT_SIGNATURE_VERIFIER_H_
#define OSM_TESTS_SUPPORT_SIGNATURE_VERIFIER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/scripted_upstream.h"

namespace osm::testing {

// The parts of "Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b,
// Signature=hex".
struct ReceivedAuthorization {
  std::string access_key;
  std::vector<std::string> signed_headers;
  std::string signature;
};
absl::StatusOr<ReceivedAuthorization> ParseAuthorization(absl::string_view value);

// An X-Sdk-Date value, "YYYYMMDDTHHMMSSZ" exactly.
std::optional<absl::Time> ParseSdkDate(absl::string_view text);

// Checks an SDK-HMAC-SHA256 signed request the way Huawei Cloud's API
// gateway does, written from the published algorithm and sharing no code
// with the adapter's signer: the request as it arrived on the wire is
// canonicalized again, and the signature recomputed with the secret key.
// OK, or UNAUTHENTICATED saying what is wrong (never quoting the key):
// no or malformed Authorization, another access key, x-sdk-date not signed
// or more than `max_skew` from `now`, a signed header missing, or a
// signature that does not match.
absl::Status VerifySignedRequest(const RecordedRequest& request, absl::string_view access_key,
                                 absl::string_view secret_key, absl::Time now,
                                 absl::Duration max_skew = absl::Minutes(15));

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_SIGNATURE_VERIFIER_H_
