#ifndef OSM_SERVER_OSM_UPSTREAM_REQUEST_H_
#define OSM_SERVER_OSM_UPSTREAM_REQUEST_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
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

// The response headers the adapter reads from OSM's answers.
extern const absl::Span<const absl::string_view> kOsmResponseHeaders;

// The upstream request for a validated Withdraw call to `upstream` (which
// may carry a path prefix). `token` may be empty, in which case no
// X-Auth-Token header is sent.
HttpRequest BuildWithdrawHttpRequest(const UpstreamUrl& upstream,
                                     const huaweicloud::osm::v2::WithdrawRequest& request,
                                     absl::string_view token, absl::Time deadline);

// An upstream request signed with an access key.
struct SignedHttpRequest {
  HttpRequest http;
  // The signature in its Authorization header.
  std::string signature;
};

// Signs `http` ("SDK-HMAC-SHA256") with `credentials` as of `now`:
// `signable` holds its method, path, query and body; adds Host (the
// authority of `upstream`), X-Sdk-Date, and X-Domain-Id and
// X-Security-Token when the credentials have them, then Authorization.
// `sent_headers` are headers `http` already carries that are signed too
// (empty values are skipped).
absl::StatusOr<SignedHttpRequest> SignHttpRequest(
    HttpRequest http, SignableRequest signable, const UpstreamUrl& upstream,
    const AkSkCredentials& credentials, absl::Time now,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> sent_headers);

// The upstream request for a validated Withdraw call, signed
// ("SDK-HMAC-SHA256") with `credentials` as of `now`. Besides the headers of
// BuildWithdrawHttpRequest it carries Host (the authority of `upstream`),
// X-Sdk-Date, X-Domain-Id and X-Security-Token when the credentials have
// them, and Authorization; never X-Auth-Token. Signed: host, x-sdk-date and
// whichever of x-domain-id, x-language, x-security-token and x-time-zone are
// sent.
absl::StatusOr<SignedHttpRequest> BuildSignedWithdrawHttpRequest(
    const UpstreamUrl& upstream, const huaweicloud::osm::v2::WithdrawRequest& request,
    const AkSkCredentials& credentials, absl::Time now, absl::Time deadline);

// The User-Agent the adapter sends upstream.
absl::string_view UserAgent();

}  // namespace osm

#endif  // OSM_SERVER_OSM_UPSTREAM_REQUEST_H_
