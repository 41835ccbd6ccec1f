#ifndef OSM_SERVER_UPSTREAM_REQUEST_H_
#define OSM_SERVER_UPSTREAM_REQUEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "http_types.h"
#include "huaweicloud/osm/v2/message_service.pb.h"

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

// The User-Agent the adapter sends upstream.
absl::string_view UserAgent();

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_REQUEST_H_
