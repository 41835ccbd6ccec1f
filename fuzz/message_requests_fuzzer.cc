// Fuzzes the requests of the rest of the message group: ValidateRequest()
// for each request message, then, for a valid one, its builder
// (message_requests.h), BuildHttpRequest() and BuildSignedHttpRequest().
//
// Input: fields, each ended by a backslash and one more byte (a newline in
// the seeds), as FuzzedDataProvider::ConsumeRandomLengthString reads them
// ("\\\\" is a literal backslash); a missing field is empty:
//
//   flags\            'r': the token is required (pass-through mode);
//                     'k': keep_rich_text; 'p': the upstream URL has a path
//                     prefix
//   numbers\          "offset limit type site", decimal, separated by
//                     spaces; a missing or unreadable one is 0
//   case_id\
//   text\             SendMessage's content, ListMoreMessages' create_time
//   group_id\
//   marker\           PollNewMessages' last_message_time_id
//   language\
//   time_zone\
//   token\            the x-auth-token metadata value
//   then one field per list element: PollNewMessages' and
//   CountUnreadMessages' case_ids, SendMessage's accessory_ids (at most 101)
//
// The same values make one request of each of the seven operations.
// Invariants checked on every input and operation:
//   - UNAUTHENTICATED exactly when the token is required and empty;
//   - a non-OK status: message at most 1024 bytes of valid UTF-8, details
//     that agree with it, exactly one ErrorInfo, a BadRequest for
//     INVALID_ARGUMENT naming only fields of the request (a list element by
//     its index) or x-auth-token, the token never quoted;
//   - for a valid request whose strings are UTF-8 (gRPC delivers no other):
//     the method is the operation's; the URL is the base URL, the path and
//     at most one '?' then the query, with no '#', space, control or
//     non-ASCII byte; the path has exactly the operation's segments, none
//     "." or "..", and each id decodes back from its own segment; the query
//     is exactly the parameters the operation sends, in order, each
//     "name=value" decoding back to its value (case_ids comma-joined);
//   - a GET has no body; a POST's body parses as JSON holding exactly the
//     request's content, accessory ids and group id;
//   - header lines hold no control byte (so no CR or LF); X-Language,
//     X-Time-Zone and X-Site are sent exactly when set, with their values;
//   - the token shows only in the one X-Auth-Token line: built with another
//     token, everything else is the same;
//   - signed: no X-Auth-Token; the URL and the body are the unsigned
//     request's, whose header lines come first; the secret key is nowhere and
//     the security token only in X-Security-Token (unless a request value
//     holds them).

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_checks.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/aksk_signer.h"
#include "server/osm/message_requests.h"
#include "server/osm/upstream_request.h"
#include "server/service/request_validation.h"
#include "tests/support/text_checks.h"

namespace {

namespace v2 = huaweicloud::osm::v2;
using osm::fuzz::CheckedDecode;
using osm::fuzz::CheckRefusal;
using osm::fuzz::ForEachString;
using osm::testing::IsValidUtf8;
using Pairs = std::vector<std::pair<std::string, std::string>>;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
// Letters and digits only, so that neither can be pieced together from a
// request value and the fixed text around it ('/', '=', '"', ' ').
constexpr char kSecretKey[] = "Sk7q2Lz9Xw4Rt8VnHc3Jm6Pd";
constexpr char kSecurityToken[] = "Ga9Vb2Nc7Md4Le1Kf8Jg5Hh3Qw6Er0Ty";

// What one operation must send, written out independently of the builders.
struct Expected {
  std::string method;
  std::vector<std::string> segments;  // decoded, after the prefix
  Pairs query;                        // decoded, in order
};

// The values an input gives every request.
struct Values {
  bool token_required = false;
  bool keep_rich_text = false;
  bool prefix = false;
  int offset = 0;
  int limit = 0;
  int type = 0;
  int site = 0;
  std::string case_id;
  std::string text;  // content or create_time
  std::string group_id;
  std::string marker;
  std::string language;
  std::string time_zone;
  std::string token;
  std::vector<std::string> list;
};

std::vector<std::string> Segments(std::initializer_list<absl::string_view> tail) {
  std::vector<std::string> segments = {"", "v2", "servicerequest", "cases"};
  for (absl::string_view segment : tail) segments.emplace_back(segment);
  return segments;
}

void AddIfSet(Pairs& query, const char* name, const std::string& value) {
  if (!value.empty()) query.emplace_back(name, value);
}

void AddRichText(Pairs& query, bool keep_rich_text) {
  if (keep_rich_text) query.emplace_back("trim_osm_rich_text_label", "false");
}

template <typename Request>
void SetHeaders(const Values& values, Request& request) {
  request.set_language(values.language);
  request.set_time_zone(values.time_zone);
  request.set_site(static_cast<v2::Site>(values.site));
}

bool HasControl(absl::string_view value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// True if `name` is a field of the request, an element of a list field
// ("case_ids[2]"), or x-auth-token.
bool IsFieldName(const google::protobuf::Descriptor& descriptor, absl::string_view name) {
  if (name == osm::kAuthTokenMetadataKey) return true;
  const std::size_t bracket = name.find('[');
  const google::protobuf::FieldDescriptor* field =
      descriptor.FindFieldByName(std::string(name.substr(0, bracket)));
  if (field == nullptr) return false;
  if (bracket == absl::string_view::npos) return true;
  int index = -1;
  return field->is_repeated() && absl::EndsWith(name, "]") &&
         absl::SimpleAtoi(name.substr(bracket + 1, name.size() - bracket - 2), &index) &&
         index >= 0;
}

// Returns whether the request was found valid.
bool CheckValidation(const google::protobuf::Message& request, const grpc::Status& status,
                     const Values& values) {
  const bool no_token = values.token_required && values.token.empty();
  OSM_FUZZ_CHECK((status.error_code() == grpc::StatusCode::UNAUTHENTICATED) == no_token,
                 "UNAUTHENTICATED exactly when a required token is missing");
  if (status.ok()) {
    OSM_FUZZ_CHECK(status.error_details().empty(), "OK carries no details");
    return true;
  }
  const std::vector<absl::string_view> tokens = {values.token};
  const google::rpc::BadRequest bad_request = CheckRefusal(status, tokens);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    OSM_FUZZ_CHECK(bad_request.field_violations_size() > 0, "a BadRequest names a violation");
    for (const auto& violation : bad_request.field_violations()) {
      OSM_FUZZ_CHECK(IsFieldName(*request.GetDescriptor(), violation.field()),
                     "the BadRequest names fields of the request or x-auth-token");
    }
  }
  return false;
}

bool AllUtf8(const google::protobuf::Message& request) {
  bool utf8 = true;
  ForEachString(request,
                [&](absl::string_view text) { utf8 = utf8 && IsValidUtf8(std::string(text)); });
  return utf8;
}

// The body, read back: checks it is JSON and returns it.
google::protobuf::Struct ParsedBody(const std::string& body) {
  google::protobuf::Struct parsed;
  OSM_FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(body, &parsed).ok(),
                 "a POST's body is a JSON object");
  return parsed;
}

// The string field `name` of `object`, or "" when absent.
std::string StringField(const google::protobuf::Struct& object, const char* name) {
  const auto it = object.fields().find(name);
  if (it == object.fields().end()) return "";
  OSM_FUZZ_CHECK(it->second.kind_case() == google::protobuf::Value::kStringValue,
                 "a string of the body is a JSON string");
  return it->second.string_value();
}

void CheckBody(const v2::SendMessageRequest& request, const std::string& body) {
  const google::protobuf::Struct parsed = ParsedBody(body);
  OSM_FUZZ_CHECK(StringField(parsed, "group_id") == request.group_id(),
                 "the body holds the group id");
  OSM_FUZZ_CHECK(parsed.fields().size() == (request.group_id().empty() ? 1u : 2u),
                 "the body holds the message and the group id only");
  const auto message = parsed.fields().find("message");
  OSM_FUZZ_CHECK(message != parsed.fields().end() &&
                     message->second.kind_case() == google::protobuf::Value::kStructValue,
                 "the body holds the message as an object");
  const google::protobuf::Struct& fields = message->second.struct_value();
  OSM_FUZZ_CHECK(StringField(fields, "content") == request.content(),
                 "the body holds the content as sent");
  std::vector<std::string> ids;
  const auto list = fields.fields().find("accessory_ids");
  if (list != fields.fields().end()) {
    OSM_FUZZ_CHECK(list->second.kind_case() == google::protobuf::Value::kListValue,
                   "accessory_ids is a JSON list");
    for (const auto& id : list->second.list_value().values()) ids.push_back(id.string_value());
  }
  OSM_FUZZ_CHECK(ids == std::vector<std::string>(request.accessory_ids().begin(),
                                                 request.accessory_ids().end()),
                 "the body holds the accessory ids as sent");
  OSM_FUZZ_CHECK(fields.fields().size() == (ids.empty() ? 1u : 2u),
                 "the message holds the content and the accessory ids only");
}

void CheckBody(const v2::MarkMessagesReadRequest& request, const std::string& body) {
  const google::protobuf::Struct parsed = ParsedBody(body);
  OSM_FUZZ_CHECK(StringField(parsed, "group_id") == request.group_id() &&
                     parsed.fields().size() == (request.group_id().empty() ? 0u : 1u),
                 "the body holds the group id only");
}

void CheckBody(const google::protobuf::Message&, const std::string& body) {
  OSM_FUZZ_CHECK(body.empty(), "a GET has no body");
}

void CheckUrl(const std::string& url, const std::string& base, const Expected& expected) {
  for (char c : url) {
    OSM_FUZZ_CHECK(c > 0x20 && c < 0x7F, "the URL has no space, control or non-ASCII byte");
  }
  OSM_FUZZ_CHECK(url.find('#') == std::string::npos, "the URL has no fragment");
  OSM_FUZZ_CHECK(absl::StartsWith(url, base), "the URL starts with the base URL");
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(url).substr(base.size()), '?');
  OSM_FUZZ_CHECK(parts.size() == (expected.query.empty() ? 1u : 2u),
                 "one '?' before the query, none without one");
  const std::vector<absl::string_view> segments = absl::StrSplit(parts[0], '/');
  OSM_FUZZ_CHECK(segments.size() == expected.segments.size(),
                 "the path has exactly the operation's segments");
  for (std::size_t i = 0; i < segments.size(); ++i) {
    OSM_FUZZ_CHECK(segments[i] != "." && segments[i] != "..", "the path has no dot segment");
    OSM_FUZZ_CHECK(CheckedDecode(segments[i]) == expected.segments[i],
                   "each segment decodes to the operation's, an id to itself");
  }
  if (expected.query.empty()) return;
  const std::vector<absl::string_view> pairs = absl::StrSplit(parts[1], '&');
  OSM_FUZZ_CHECK(pairs.size() == expected.query.size(),
                 "the query has exactly the operation's parameters");
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::vector<absl::string_view> name_value = absl::StrSplit(pairs[i], '=');
    OSM_FUZZ_CHECK(name_value.size() == 2, "each parameter is one name=value");
    OSM_FUZZ_CHECK(CheckedDecode(name_value[0], ",") == expected.query[i].first &&
                       CheckedDecode(name_value[1], ",") == expected.query[i].second,
                   "each parameter decodes to the operation's, in order");
  }
}

// The value of header `name` in `http`, or ""; checks it is sent at most
// once.
std::string HeaderValue(const osm::HttpRequest& http, absl::string_view name) {
  std::string value;
  int count = 0;
  const std::string prefix = absl::StrCat(name, ": ");
  for (const std::string& line : http.headers) {
    if (!absl::StartsWithIgnoreCase(line, prefix)) continue;
    ++count;
    value = line.substr(prefix.size());
  }
  OSM_FUZZ_CHECK(count <= 1, "a header is sent at most once");
  return value;
}

std::string OtherToken(absl::string_view token) {
  std::string other(token);
  for (char& c : other) c = c == 'Q' ? 'R' : 'Q';
  return other;
}

template <typename Request>
void CheckBuilt(const Request& request, const osm::OsmCall& call, const Expected& expected,
                const Values& values) {
  const osm::UpstreamUrl upstream{"https", "osm.example.com", values.prefix ? "/osm/api" : ""};
  const std::string token = values.token_required ? values.token : "";
  const osm::HttpRequest http =
      osm::BuildHttpRequest(upstream, call, token, absl::InfiniteFuture());

  OSM_FUZZ_CHECK(http.method == expected.method, "the method is the operation's");
  CheckUrl(http.url, upstream.base(), expected);
  CheckBody(request, http.body);
  for (const std::string& line : http.headers) {
    OSM_FUZZ_CHECK(!HasControl(line), "a header line has no control byte (no CR or LF)");
  }
  OSM_FUZZ_CHECK(HeaderValue(http, "X-Language") == request.language() &&
                     HeaderValue(http, "X-Time-Zone") == request.time_zone(),
                 "X-Language and X-Time-Zone are the request's, when set");
  const std::string site = HeaderValue(http, "X-Site");
  OSM_FUZZ_CHECK(request.site() == v2::SITE_CHINA           ? site == "0"
                 : request.site() == v2::SITE_INTERNATIONAL ? site == "1"
                                                            : site.empty(),
                 "X-Site is the request's site, when set");
  OSM_FUZZ_CHECK(HeaderValue(http, "X-Auth-Token") == token,
                 "X-Auth-Token carries the token, when there is one");

  // The token only in its line: with another token, nothing else changes.
  const osm::HttpRequest other =
      osm::BuildHttpRequest(upstream, call, OtherToken(token), absl::InfiniteFuture());
  OSM_FUZZ_CHECK(other.url == http.url && other.body == http.body &&
                     other.headers.size() == http.headers.size(),
                 "the token changes neither the URL, the body nor the headers sent");
  for (std::size_t i = 0; i < http.headers.size(); ++i) {
    OSM_FUZZ_CHECK(
        other.headers[i] == http.headers[i] || absl::StartsWith(http.headers[i], "X-Auth-Token: "),
        "the token shows only in X-Auth-Token");
  }

  osm::AkSkCredentials credentials;
  credentials.access_key = "HPUAL2XKQ4ZMEXAMPLE1";
  credentials.secret_key = kSecretKey;
  credentials.security_token = kSecurityToken;
  credentials.domain_id = "0a1b2c3d4e5f";
  const absl::StatusOr<osm::SignedHttpRequest> signed_request =
      osm::BuildSignedHttpRequest(upstream, call, credentials, kNow, absl::InfiniteFuture());
  OSM_FUZZ_CHECK(signed_request.ok(), "a valid request can be signed");
  const osm::HttpRequest& signed_http = signed_request->http;
  const osm::HttpRequest unsigned_http =
      osm::BuildHttpRequest(upstream, call, "", absl::InfiniteFuture());
  OSM_FUZZ_CHECK(signed_http.url == unsigned_http.url && signed_http.body == unsigned_http.body &&
                     signed_http.method == unsigned_http.method,
                 "signing changes neither the method, the URL nor the body");
  OSM_FUZZ_CHECK(signed_http.headers.size() > unsigned_http.headers.size() &&
                     std::equal(unsigned_http.headers.begin(), unsigned_http.headers.end(),
                                signed_http.headers.begin()),
                 "signing adds headers after the unsigned request's");
  bool carried_secret = false;
  bool carried_security_token = false;
  ForEachString(request, [&](absl::string_view text) {
    carried_secret = carried_secret || absl::StrContains(text, kSecretKey);
    carried_security_token = carried_security_token || absl::StrContains(text, kSecurityToken);
  });
  for (const std::string& line : signed_http.headers) {
    OSM_FUZZ_CHECK(!absl::StartsWithIgnoreCase(line, "x-auth-token:"),
                   "a signed request never carries X-Auth-Token");
    OSM_FUZZ_CHECK(!HasControl(line), "a signed header line has no control byte");
    OSM_FUZZ_CHECK(carried_secret || !absl::StrContains(line, kSecretKey),
                   "no header carries the secret key");
    OSM_FUZZ_CHECK(carried_security_token || !absl::StrContains(line, kSecurityToken) ||
                       line == absl::StrCat("X-Security-Token: ", kSecurityToken),
                   "the security token shows only in X-Security-Token");
  }
  OSM_FUZZ_CHECK(carried_secret || (!absl::StrContains(signed_http.url, kSecretKey) &&
                                    !absl::StrContains(signed_http.body, kSecretKey)),
                 "the secret key is not in the URL or the body");
}

template <typename Request, typename Build>
void CheckOperation(const Request& request, const Values& values, const Expected& expected,
                    Build build) {
  const std::vector<absl::string_view> tokens = {values.token};
  const grpc::Status status = osm::ValidateRequest(request, tokens, values.token_required);
  if (CheckValidation(request, status, values) && AllUtf8(request)) {
    CheckBuilt(request, build(request), expected, values);
  }
}

void CheckAll(const Values& values) {
  const auto list = [&](auto& repeated) {
    for (const std::string& element : values.list) *repeated.Add() = element;
  };
  {
    v2::SendMessageRequest request;
    request.set_case_id(values.case_id);
    request.set_content(values.text);
    list(*request.mutable_accessory_ids());
    request.set_group_id(values.group_id);
    SetHeaders(values, request);
    CheckOperation(request, values, {"POST", Segments({values.case_id, "message"}), {}},
                   osm::SendMessageCall);
  }
  {
    v2::ListMessagesRequest request;
    request.set_case_id(values.case_id);
    request.set_offset(values.offset);
    request.set_limit(values.limit);
    request.set_group_id(values.group_id);
    request.set_keep_rich_text(values.keep_rich_text);
    SetHeaders(values, request);
    Expected expected{"GET", Segments({values.case_id, "messages"}), {}};
    AddIfSet(expected.query, "group_id", values.group_id);
    if (values.offset != 0) expected.query.emplace_back("offset", absl::StrCat(values.offset));
    if (values.limit != 0) expected.query.emplace_back("limit", absl::StrCat(values.limit));
    AddRichText(expected.query, values.keep_rich_text);
    CheckOperation(request, values, expected, osm::ListMessagesCall);
  }
  {
    v2::ListMoreMessagesRequest request;
    request.set_case_id(values.case_id);
    request.set_create_time(values.text);
    request.set_type(values.type);
    request.set_limit(values.limit);
    request.set_group_id(values.group_id);
    request.set_keep_rich_text(values.keep_rich_text);
    SetHeaders(values, request);
    Expected expected{"GET",
                      Segments({values.case_id, "instant-messages", "more"}),
                      {{"create_time", values.text}, {"type", absl::StrCat(values.type)}}};
    AddIfSet(expected.query, "group_id", values.group_id);
    expected.query.emplace_back("limit", absl::StrCat(values.limit));
    AddRichText(expected.query, values.keep_rich_text);
    CheckOperation(request, values, expected, osm::ListMoreMessagesCall);
  }
  const std::string case_ids = absl::StrJoin(values.list, ",");
  {
    v2::PollNewMessagesRequest request;
    list(*request.mutable_case_ids());
    request.set_last_message_time_id(values.marker);
    request.set_group_id(values.group_id);
    request.set_keep_rich_text(values.keep_rich_text);
    SetHeaders(values, request);
    Expected expected{"GET", Segments({"instant-messages"}), {{"case_ids", case_ids}}};
    AddIfSet(expected.query, "last_message_time_id", values.marker);
    AddIfSet(expected.query, "group_id", values.group_id);
    AddRichText(expected.query, values.keep_rich_text);
    CheckOperation(request, values, expected, osm::PollNewMessagesCall);
  }
  {
    v2::CountUnreadMessagesRequest request;
    list(*request.mutable_case_ids());
    request.set_group_id(values.group_id);
    SetHeaders(values, request);
    Expected expected{"GET", Segments({"instant-messages", "unread"}), {{"case_ids", case_ids}}};
    AddIfSet(expected.query, "group_id", values.group_id);
    CheckOperation(request, values, expected, osm::CountUnreadMessagesCall);
  }
  {
    v2::MarkMessagesReadRequest request;
    request.set_case_id(values.case_id);
    request.set_group_id(values.group_id);
    SetHeaders(values, request);
    CheckOperation(request, values,
                   {"POST", Segments({values.case_id, "instant-messages", "unread"}), {}},
                   osm::MarkMessagesReadCall);
  }
  {
    v2::ListCaseMessagesRequest request;
    request.set_case_id(values.case_id);
    request.set_group_id(values.group_id);
    request.set_keep_rich_text(values.keep_rich_text);
    SetHeaders(values, request);
    Expected expected{"GET", Segments({values.case_id}), {}};
    AddIfSet(expected.query, "group_id", values.group_id);
    AddRichText(expected.query, values.keep_rich_text);
    CheckOperation(request, values, expected, osm::ListCaseMessagesCall);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  Values values;
  const std::string flags = input.ConsumeRandomLengthString();
  values.token_required = absl::StrContains(flags, 'r');
  values.keep_rich_text = absl::StrContains(flags, 'k');
  values.prefix = absl::StrContains(flags, 'p');
  const std::string numbers = input.ConsumeRandomLengthString();
  const std::vector<absl::string_view> words = absl::StrSplit(numbers, ' ', absl::SkipEmpty());
  int* const targets[] = {&values.offset, &values.limit, &values.type, &values.site};
  for (std::size_t i = 0; i < words.size() && i < 4; ++i) {
    if (!absl::SimpleAtoi(words[i], targets[i])) *targets[i] = 0;
  }
  for (std::string* field : {&values.case_id, &values.text, &values.group_id, &values.marker,
                             &values.language, &values.time_zone, &values.token}) {
    *field = input.ConsumeRandomLengthString();
  }
  while (input.remaining_bytes() > 0 && values.list.size() < 101) {
    values.list.push_back(input.ConsumeRandomLengthString());
  }
  CheckAll(values);
  return 0;
}
