#include "osm/client/withdraw_json.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "osm/client/withdraw_error_details.h"

namespace osm::client {
namespace {

// `text` as a JSON string literal. Bytes >= 0x80 pass through: the adapter
// sends UTF-8.
std::string Quote(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// A message in protobuf's JSON form; the detail types are linked into this
// library, so an Any of them prints with its fields.
std::string MessageJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "null";
  return json;
}

// An Any whose type is not linked in keeps at least its type URL.
std::string AnyJson(const google::protobuf::Any& any) {
  std::string json = MessageJson(any);
  return json == "null" ? absl::StrCat("{\"@type\":", Quote(any.type_url()), "}") : json;
}

}  // namespace

std::string WithdrawResultToJson(
    const absl::StatusOr<huaweicloud::osm::v2::WithdrawResponse>& result) {
  return result.ok() ? ResponseToJson(*result) : ErrorStatusToJson(result.status());
}

std::string ResponseToJson(const google::protobuf::Message& response) {
  return absl::StrCat("{\"status\":\"OK\",\"code\":0,\"response\":", MessageJson(response), "}");
}

std::string ErrorStatusToJson(const absl::Status& status) {
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(status);
  std::string json = absl::StrCat("{\"status\":", Quote(absl::StatusCodeToString(status.code())),
                                  ",\"code\":", static_cast<int>(status.code()),
                                  ",\"message\":", Quote(status.message()));
  const auto add = [&json](absl::string_view key, absl::string_view value) {
    if (!value.empty()) absl::StrAppend(&json, ",", Quote(key), ":", Quote(value));
  };
  add("reason", details.reason());
  add("domain", details.domain());
  add("upstream_error_code", details.upstream_error_code());
  if (details.upstream_http_status()) {
    absl::StrAppend(&json, ",\"upstream_http_status\":", *details.upstream_http_status());
  }
  add("request_id", details.request_id());
  if (details.retry_delay()) {
    add("retry_delay", google::protobuf::util::TimeUtil::ToString(
                           google::protobuf::util::TimeUtil::NanosecondsToDuration(
                               absl::ToInt64Nanoseconds(*details.retry_delay()))));
  }
  if (!details.field_violations().empty()) {
    absl::StrAppend(&json, ",\"field_violations\":[");
    const char* separator = "";
    for (const auto& violation : details.field_violations()) {
      absl::StrAppend(&json, separator, "{\"field\":", Quote(violation.field),
                      ",\"description\":", Quote(violation.description), "}");
      separator = ",";
    }
    absl::StrAppend(&json, "]");
  }
  if (details.has_details()) {
    absl::StrAppend(&json, ",\"details\":[");
    const char* separator = "";
    for (const google::protobuf::Any& any : details.rpc_status().details()) {
      absl::StrAppend(&json, separator, AnyJson(any));
      separator = ",";
    }
    absl::StrAppend(&json, "]");
  }
  json += "}";
  return json;
}

}  // namespace osm::client
