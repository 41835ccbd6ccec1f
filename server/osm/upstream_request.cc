#include "server/osm/upstream_request.h"

#include <cstdint>

#include "absl/strings/match.h"
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

namespace {
constexpr absl::string_view kOsmResponseHeaderNames[] = {"x-request-id", "retry-after"};
}  // namespace

const absl::Span<const absl::string_view> kOsmResponseHeaders(kOsmResponseHeaderNames);

HttpRequest BuildWithdrawHttpRequest(const UpstreamUrl& upstream,
                                     const huaweicloud::osm::v2::WithdrawRequest& request,
                                     absl::string_view token, absl::Time deadline) {
  HttpRequest http;
  http.method = "POST";
  http.url = absl::StrCat(upstream.scheme, "://", upstream.authority, upstream.prefix,
                          WithdrawPath(request.case_id(), request.message_id()));
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
  http.response_headers = kOsmResponseHeaders;
  http.deadline = deadline;
  return http;
}

absl::StatusOr<SignedHttpRequest> SignHttpRequest(
    HttpRequest http, SignableRequest signable, const UpstreamUrl& upstream,
    const AkSkCredentials& credentials, absl::Time now,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> sent_headers) {
  SignedHttpRequest out;
  out.http = std::move(http);
  auto add = [&](absl::string_view name, absl::string_view value, bool send) {
    if (value.empty()) return;
    signable.headers.emplace_back(std::string(name), std::string(value));
    if (send) out.http.headers.push_back(absl::StrCat(name, ": ", value));
  };
  add("Host", upstream.authority, true);
  add("X-Sdk-Date", FormatSdkDate(now), true);
  add("X-Domain-Id", credentials.domain_id, true);
  add("X-Security-Token", credentials.security_token, true);
  for (const auto& [name, value] : sent_headers) add(name, value, false);

  absl::StatusOr<RequestSignature> signature =
      SignRequest(signable, credentials.access_key, credentials.secret_key);
  if (!signature.ok()) return signature.status();
  out.http.headers.push_back(absl::StrCat("Authorization: ", signature->authorization));
  out.signature = std::move(signature->signature);
  return out;
}

absl::StatusOr<SignedHttpRequest> BuildSignedWithdrawHttpRequest(
    const UpstreamUrl& upstream, const huaweicloud::osm::v2::WithdrawRequest& request,
    const AkSkCredentials& credentials, absl::Time now, absl::Time deadline) {
  SignableRequest signable;
  signable.method = "POST";
  signable.path =
      absl::StrCat(upstream.prefix, WithdrawPath(request.case_id(), request.message_id()));
  return SignHttpRequest(
      BuildWithdrawHttpRequest(upstream, request, /*token=*/{}, deadline), std::move(signable),
      upstream, credentials, now,
      {{"X-Language", request.language()}, {"X-Time-Zone", request.time_zone()}});
}

absl::string_view UserAgent() { return "osm-grpc-adapter/" OSM_ADAPTER_VERSION; }

}  // namespace osm
