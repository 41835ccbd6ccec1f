#ifndef OSM_SERVER_OSM_UPSTREAM_REQUEST_H_
#define OSM_SERVER_OSM_UPSTREAM_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/aksk_signer.h"
#include "server/upstream/http_types.h"

namespace osm {

// Percent-encodes `value` as one path segment: every byte outside the
// unreserved set (A-Z a-z 0-9 - _ . ~) becomes %XX with upper-case hex, so
// the value can never add a segment or a query.
std::string EncodePathSegment(absl::string_view value);

// "/v2/servicerequest/cases/{case_id}/instant-messages/{message_id}/withdraw",
// with both ids encoded by EncodePathSegment().
std::string WithdrawPath(absl::string_view case_id, absl::string_view message_id);

// The upstream request for a validated Withdraw call. `base_url` is the OSM
// endpoint without a trailing slash (it may carry a path prefix). `token`
// may be empty, in which case no X-Auth-Token header is sent.
HttpRequest BuildWithdrawHttpRequest(absl::string_view base_url,
                                     const huaweicloud::osm::v2::WithdrawRequest& request,
                                     absl::string_view token, absl::Time deadline);

// An upstream request signed with an access key.
struct SignedHttpRequest {
  HttpRequest http;
  // The signature in its Authorization header.
  std::string signature;
};

// The upstream request for a validated Withdraw call, signed
// ("SDK-HMAC-SHA256") with `credentials` as of `now`. Besides the headers of
// BuildWithdrawHttpRequest it carries Host (the authority of `base_url`),
// X-Sdk-Date, X-Domain-Id and X-Security-Token when the credentials have
// them, and Authorization; never X-Auth-Token. Signed: host, x-sdk-date and
// whichever of x-domain-id, x-language, x-security-token and x-time-zone are
// sent.
absl::StatusOr<SignedHttpRequest> BuildSignedWithdrawHttpRequest(
    absl::string_view base_url, const huaweicloud::osm::v2::WithdrawRequest& request,
    const AkSkCredentials& credentials, absl::Time now, absl::Time deadline);

// Replaces every `secret` in what an upstream answer carries (body, request
// id, Retry-After) with "[REDACTED]", so that an upstream that echoes a
// request header cannot hand it to the caller.
void RedactEchoedSecret(absl::StatusOr<HttpResponse>& outcome, absl::string_view secret);

// The User-Agent the adapter sends upstream.
absl::string_view UserAgent();

}  // namespace osm

#endif  // OSM_SERVER_OSM_UPSTREAM_REQUEST_H_
