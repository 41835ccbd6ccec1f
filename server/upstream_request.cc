#include "upstream_request.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace osm {

std::string EncodePathSegment(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (char c : value) {
    const auto byte = static_cast<std::uint8_t>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' ||
                            byte == '.' || byte == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

std::string WithdrawPath(absl::string_view case_id, absl::string_view message_id) {
  return absl::StrCat("/v2/servicerequest/cases/", EncodePathSegment(case_id), "/instant-messages/",
                      EncodePathSegment(message_id), "/withdraw");
}

HttpRequest BuildWithdrawHttpRequest(absl::string_view base_url,
                                     const huaweicloud::osm::v2::WithdrawRequest& request,
                                     absl::string_view token, absl::Time deadline) {
  HttpRequest http;
  http.url = absl::StrCat(base_url, WithdrawPath(request.case_id(), request.message_id()));
  http.headers.reserve(6);
  http.headers.push_back("Content-Type: application/json");
  http.headers.push_back("Accept: application/json");
  http.headers.push_back(absl::StrCat("User-Agent: ", UserAgent()));
  if (!token.empty()) http.headers.push_back(absl::StrCat("X-Auth-Token: ", token));
  if (!request.language().empty()) {
    http.headers.push_back(absl::StrCat("X-Language: ", request.language()));
  }
  if (!request.time_zone().empty()) {
    http.headers.push_back(absl::StrCat("X-Time-Zone: ", request.time_zone()));
  }
  http.deadline = deadline;
  return http;
}

absl::string_view UserAgent() { return "osm-grpc-adapter/" OSM_ADAPTER_VERSION; }

}  // namespace osm
