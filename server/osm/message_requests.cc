#include "server/osm/message_requests.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "server/osm/osm_message_bodies.pb.h"

namespace osm {
namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the request messages

constexpr absl::string_view kCases = "/v2/servicerequest/cases/";

std::string CasePath(absl::string_view case_id, absl::string_view tail = "") {
  return absl::StrCat(kCases, EncodePathSegment(case_id), tail);
}

// The request's optional headers, which every operation takes.
template <typename Request>
OsmCall CallWithHeaders(const Request& request, absl::string_view method, std::string path) {
  OsmCall call;
  call.method = std::string(method);
  call.path = std::move(path);
  call.language = request.language();
  call.time_zone = request.time_zone();
  call.site = std::string(SiteHeaderValue(request.site()));
  return call;
}

void AddIfSet(OsmCall& call, absl::string_view name, absl::string_view value) {
  if (!value.empty()) call.query.emplace_back(std::string(name), std::string(value));
}

void AddRichText(OsmCall& call, bool keep_rich_text) {
  if (keep_rich_text) call.query.emplace_back("trim_osm_rich_text_label", "false");
}

std::string ToJson(const google::protobuf::Message& body) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  // Cannot fail: the message is built here, and its strings were validated
  // as UTF-8 by gRPC's parser.
  (void)google::protobuf::util::MessageToJsonString(body, &json, options);
  return json;
}

}  // namespace

std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  return absl::StrJoin(query, "&", [](std::string* out, const auto& pair) {
    absl::StrAppend(out, absl::StrReplaceAll(EncodePathSegment(pair.first), {{"%2C", ","}}), "=",
                    absl::StrReplaceAll(EncodePathSegment(pair.second), {{"%2C", ","}}));
  });
}

absl::string_view SiteHeaderValue(Site site) {
  switch (site) {
    case SITE_CHINA:
      return "0";
    case SITE_INTERNATIONAL:
      return "1";
    default:
      return "";
  }
}

OsmCall SendMessageCall(const SendMessageRequest& request) {
  OsmCall call = CallWithHeaders(request, "POST", CasePath(request.case_id(), "/message"));
  internal::CreateMessageBody body;
  body.mutable_message()->set_content(request.content());
  *body.mutable_message()->mutable_accessory_ids() = request.accessory_ids();
  body.set_group_id(request.group_id());
  call.body = ToJson(body);
  return call;
}

OsmCall ListMessagesCall(const ListMessagesRequest& request) {
  OsmCall call = CallWithHeaders(request, "GET", CasePath(request.case_id(), "/messages"));
  AddIfSet(call, "group_id", request.group_id());
  if (request.offset() != 0) call.query.emplace_back("offset", absl::StrCat(request.offset()));
  if (request.limit() != 0) call.query.emplace_back("limit", absl::StrCat(request.limit()));
  AddRichText(call, request.keep_rich_text());
  return call;
}

OsmCall ListMoreMessagesCall(const ListMoreMessagesRequest& request) {
  OsmCall call =
      CallWithHeaders(request, "GET", CasePath(request.case_id(), "/instant-messages/more"));
  call.query.emplace_back("create_time", request.create_time());
  call.query.emplace_back("type", absl::StrCat(request.type()));
  AddIfSet(call, "group_id", request.group_id());
  call.query.emplace_back("limit", absl::StrCat(request.limit()));
  AddRichText(call, request.keep_rich_text());
  return call;
}

OsmCall PollNewMessagesCall(const PollNewMessagesRequest& request) {
  OsmCall call = CallWithHeaders(request, "GET", absl::StrCat(kCases, "instant-messages"));
  call.query.emplace_back("case_ids", absl::StrJoin(request.case_ids(), ","));
  AddIfSet(call, "last_message_time_id", request.last_message_time_id());
  AddIfSet(call, "group_id", request.group_id());
  AddRichText(call, request.keep_rich_text());
  return call;
}

OsmCall CountUnreadMessagesCall(const CountUnreadMessagesRequest& request) {
  OsmCall call = CallWithHeaders(request, "GET", absl::StrCat(kCases, "instant-messages/unread"));
  call.query.emplace_back("case_ids", absl::StrJoin(request.case_ids(), ","));
  AddIfSet(call, "group_id", request.group_id());
  return call;
}

OsmCall MarkMessagesReadCall(const MarkMessagesReadRequest& request) {
  OsmCall call =
      CallWithHeaders(request, "POST", CasePath(request.case_id(), "/instant-messages/unread"));
  internal::MarkReadBody body;
  body.set_group_id(request.group_id());
  call.body = ToJson(body);
  return call;
}

OsmCall ListCaseMessagesCall(const ListCaseMessagesRequest& request) {
  OsmCall call = CallWithHeaders(request, "GET", CasePath(request.case_id()));
  AddIfSet(call, "group_id", request.group_id());
  AddRichText(call, request.keep_rich_text());
  return call;
}

HttpRequest BuildHttpRequest(const UpstreamUrl& upstream, const OsmCall& call,
                             absl::string_view token, absl::Time deadline) {
  HttpRequest http;
  http.method = call.method;
  http.url = absl::StrCat(upstream.scheme, "://", upstream.authority, upstream.prefix, call.path);
  if (!call.query.empty()) absl::StrAppend(&http.url, "?", EncodeQuery(call.query));
  http.headers.reserve(7);
  http.headers.push_back("Content-Type: application/json");
  http.headers.push_back("Accept: application/json");
  http.headers.push_back(absl::StrCat("User-Agent: ", UserAgent()));
  if (!token.empty()) http.headers.push_back(absl::StrCat("X-Auth-Token: ", token));
  if (!call.language.empty()) http.headers.push_back(absl::StrCat("X-Language: ", call.language));
  if (!call.time_zone.empty()) {
    http.headers.push_back(absl::StrCat("X-Time-Zone: ", call.time_zone));
  }
  if (!call.site.empty()) http.headers.push_back(absl::StrCat("X-Site: ", call.site));
  http.body = call.body;
  http.response_headers = kOsmResponseHeaders;
  http.deadline = deadline;
  return http;
}

absl::StatusOr<SignedHttpRequest> BuildSignedHttpRequest(const UpstreamUrl& upstream,
                                                         const OsmCall& call,
                                                         const AkSkCredentials& credentials,
                                                         absl::Time now, absl::Time deadline) {
  SignableRequest signable;
  signable.method = call.method;
  signable.path = absl::StrCat(upstream.prefix, call.path);
  signable.query = call.query;
  signable.body = call.body;
  return SignHttpRequest(
      BuildHttpRequest(upstream, call, /*token=*/{}, deadline), std::move(signable), upstream,
      credentials, now,
      {{"X-Language", call.language}, {"X-Time-Zone", call.time_zone}, {"X-Site", call.site}});
}

}  // namespace osm
