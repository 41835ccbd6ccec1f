#ifndef OSM_SERVER_OSM_MESSAGE_REQUESTS_H_
#define OSM_SERVER_OSM_MESSAGE_REQUESTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/aksk_signer.h"
#include "server/osm/upstream_request.h"
#include "server/upstream/http_types.h"

// The REST requests of OSM's message group, as pure functions: one builder
// per operation turns a validated request message into an OsmCall, and one
// pair of functions turns any OsmCall into the HttpRequest on the wire,
// with the caller's token or signed. Withdraw keeps its own builders
// (upstream_request.h), which send the same bytes.

namespace osm {

// One OSM operation's request, before the URL, the credentials and the
// deadline are known.
struct OsmCall {
  std::string method;  // "GET" or "POST"
  // Percent-encoded, starting with "/v2/": EncodePathSegment for every id.
  std::string path;
  // Names and values as they mean, not encoded; sent in this order.
  std::vector<std::pair<std::string, std::string>> query;
  // JSON, for POST; empty for GET.
  std::string body;
  std::string language;   // X-Language, when not empty
  std::string time_zone;  // X-Time-Zone, when not empty
  std::string site;       // X-Site ("0" or "1"), when not empty
};

// The query string of `query` ("a=1&b=x%3Ay", no "?"), each name and value
// encoded like a path segment except that "," stays as it is: list values
// (case_ids) are sent as one comma-joined value, as OSM's documentation and
// its Python SDK send them.
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& query);

// The value of X-Site for `site`, or "" for SITE_UNSPECIFIED.
absl::string_view SiteHeaderValue(huaweicloud::osm::v2::Site site);

// One builder per operation; each request must have been validated
// (request_validation.h). Optional fields that are empty or zero are not
// sent; keep_rich_text sends trim_osm_rich_text_label=false.
OsmCall SendMessageCall(const huaweicloud::osm::v2::SendMessageRequest& request);
OsmCall ListMessagesCall(const huaweicloud::osm::v2::ListMessagesRequest& request);
OsmCall ListMoreMessagesCall(const huaweicloud::osm::v2::ListMoreMessagesRequest& request);
OsmCall PollNewMessagesCall(const huaweicloud::osm::v2::PollNewMessagesRequest& request);
OsmCall CountUnreadMessagesCall(const huaweicloud::osm::v2::CountUnreadMessagesRequest& request);
OsmCall MarkMessagesReadCall(const huaweicloud::osm::v2::MarkMessagesReadRequest& request);
OsmCall ListCaseMessagesCall(const huaweicloud::osm::v2::ListCaseMessagesRequest& request);

// The HttpRequest for `call` to `upstream` (which may carry a path prefix):
// Content-Type and Accept application/json, User-Agent, X-Auth-Token when
// `token` is not empty, X-Language, X-Time-Zone and X-Site when set, in
// that order, then the body. Keeps kOsmResponseHeaders.
HttpRequest BuildHttpRequest(const UpstreamUrl& upstream, const OsmCall& call,
                             absl::string_view token, absl::Time deadline);

// The same request signed with `credentials` as of `now`, as
// BuildSignedWithdrawHttpRequest signs Withdraw: Host, X-Sdk-Date,
// X-Domain-Id and X-Security-Token when the credentials have them, and
// Authorization; never X-Auth-Token. Signed: host, x-sdk-date and whichever
// of x-domain-id, x-language, x-security-token, x-site and x-time-zone are
// sent, the query and the body.
absl::StatusOr<SignedHttpRequest> BuildSignedHttpRequest(const UpstreamUrl& upstream,
                                                         const OsmCall& call,
                                                         const AkSkCredentials& credentials,
                                                         absl::Time now, absl::Time deadline);

}  // namespace osm

#endif  // OSM_SERVER_OSM_MESSAGE_REQUESTS_H_
