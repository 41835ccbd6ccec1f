#include "server/osm/response_mapper.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "server/osm/adapter_errors.h"
#include "server/osm/osm_body.pb.h"
#include "server/osm/osm_error_codes.h"
#include "server/osm/redaction.h"
#include "server/osm/rich_status.h"

namespace osm {
namespace {

using grpc::StatusCode;
using huaweicloud::osm::v2::WithdrawResponse;

// ---- Reading the body ------------------------------------------------------

void FillFromTyped(const internal::OsmResponseBody& parsed, OsmBody& out) {
  const internal::OsmResponseBody& nested = parsed.error();
  for (const std::string* code :
       {&parsed.error_code(), &parsed.code(), &nested.error_code(), &nested.code()}) {
    if (!code->empty()) {
      out.error_code = *code;
      break;
    }
  }
  for (const std::string* msg :
       {&parsed.error_msg(), &parsed.message(), &nested.error_msg(), &nested.message()}) {
    if (!msg->empty()) {
      out.error_msg = *msg;
      break;
    }
  }
  out.request_id = !parsed.request_id().empty() ? parsed.request_id() : nested.request_id();
}

// Lenient reading of one object level: strings as they are, integral numbers
// as decimal text for the code fields. Returns false when an error code field
// holds something else (an object, an array, a bool, a fraction).
bool FillFromStruct(const google::protobuf::Struct& object, OsmBody& out) {
  bool types_ok = true;
  const auto& fields = object.fields();
  auto text_of = [&](absl::string_view key, bool is_code, std::string& target) {
    auto it = fields.find(std::string(key));
    if (it == fields.end() || !target.empty()) return;
    const google::protobuf::Value& value = it->second;
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        target = value.string_value();
        break;
      case google::protobuf::Value::kNullValue:
        break;
      case google::protobuf::Value::kNumberValue:
        if (is_code && std::floor(value.number_value()) == value.number_value() &&
            std::fabs(value.number_value()) < 1e15) {
          target = absl::StrCat(static_cast<std::int64_t>(value.number_value()));
        } else if (is_code) {
          types_ok = false;
        }
        break;
      default:
        if (is_code) types_ok = false;
        break;
    }
  };
  for (absl::string_view key : {"error_code", "errorCode", "code"})
    text_of(key, true, out.error_code);
  for (absl::string_view key : {"error_msg", "errorMsg", "message", "error"}) {
    text_of(key, false, out.error_msg);
  }
  for (absl::string_view key : {"request_id", "requestId"}) text_of(key, false, out.request_id);
  return types_ok;
}

OsmBody ParseStruct(absl::string_view json) {
  OsmBody out;
  google::protobuf::Struct object;
  google::protobuf::util::JsonParseOptions options;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &object, options)
           .ok()) {
    out.shape = OsmBody::Shape::kNotJsonObject;
    return out;
  }
  bool types_ok = FillFromStruct(object, out);
  if (out.error_code.empty() && out.error_msg.empty()) {
    // An error object nested one level down, under whatever key.
    for (const auto& [key, value] : object.fields()) {
      if (value.kind_case() != google::protobuf::Value::kStructValue) continue;
      OsmBody nested;
      bool nested_ok = FillFromStruct(value.struct_value(), nested);
      if (!nested.error_code.empty() || !nested.error_msg.empty()) {
        types_ok = types_ok && nested_ok;
        out.error_code = std::move(nested.error_code);
        out.error_msg = std::move(nested.error_msg);
        if (out.request_id.empty()) out.request_id = std::move(nested.request_id);
        break;
      }
    }
  }
  out.shape = types_ok ? OsmBody::Shape::kObject : OsmBody::Shape::kWrongTypes;
  return out;
}

// ---- Building the status ---------------------------------------------------

// `error_code` is the sanitized, redacted one.
std::string DescribeAnswer(const HttpResponse& http, const OsmBody& body,
                           absl::string_view error_code, std::size_t body_limit) {
  std::string text = absl::StrCat("OSM answered HTTP ", http.status);
  if (!error_code.empty()) absl::StrAppend(&text, " with error code ", error_code);
  if (http.body_truncated) {
    absl::StrAppend(&text, " with a body larger than ", body_limit, " bytes, which was cut off");
  } else if (body.shape == OsmBody::Shape::kWrongTypes) {
    absl::StrAppend(&text, " with an error code that is neither a string nor a number");
  } else if (body.shape == OsmBody::Shape::kNotJsonObject) {
    absl::StrAppend(&text, " with a body that is not a JSON object: ",
                    SanitizeText(absl::StripAsciiWhitespace(http.body), kMaxRawBodyInMessageBytes));
  }
  return text;
}

template <typename Answer>
MappedOutcome<Answer> MapTransportError(const absl::Status& error) {
  AdapterReason reason;
  std::string message;
  switch (error.code()) {
    case absl::StatusCode::kUnavailable:
      reason = AdapterReason::kUpstreamUnavailable;
      message = absl::StrCat("OSM could not be reached: ", error.message());
      break;
    case absl::StatusCode::kDeadlineExceeded:
      reason = AdapterReason::kUpstreamTimeout;
      message = absl::StrCat("OSM did not answer in time: ", error.message());
      break;
    case absl::StatusCode::kCancelled:
      reason = AdapterReason::kCancelled;
      message = absl::StrCat("the call was cancelled: ", error.message());
      break;
    default:
      reason = AdapterReason::kUpstreamTransportError;
      message = absl::StrCat("the request to OSM failed: ", error.message());
      break;
  }
  MappedOutcome<Answer> result;
  result.reason = std::string(Describe(reason).name);
  result.status = AdapterError(reason, message);
  return result;
}

}  // namespace

std::string SanitizeAscii(absl::string_view text, std::size_t max_bytes) {
  std::string out(text.substr(0, max_bytes));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  return out;
}

OsmBody ParseOsmBody(absl::string_view body) {
  OsmBody out;
  absl::string_view json = absl::StripAsciiWhitespace(body);
  if (json.empty()) return out;
  // OSM's success body, byte for byte, needs no parser: this is nearly every
  // answer, and protobuf's JSON parser costs microseconds.
  if (json == R"({"error_code":"","error_msg":""})" || json == "{}") {
    out.shape = OsmBody::Shape::kObject;
    return out;
  }
  if (json.front() != '{') {
    out.shape = OsmBody::Shape::kNotJsonObject;
    return out;
  }
  internal::OsmResponseBody typed;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &typed, options)
           .ok()) {
    // Not JSON, or a field of an unexpected type: read it leniently.
    return ParseStruct(json);
  }
  out.shape = OsmBody::Shape::kObject;
  FillFromTyped(typed, out);
  if (out.error_code.empty() && out.error_msg.empty() && json.find('{', 1) != json.npos) {
    // Perhaps an error object nested under another key than "error".
    return ParseStruct(json);
  }
  return out;
}

grpc::StatusCode GrpcCodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return StatusCode::INVALID_ARGUMENT;
    case 401:
      return StatusCode::UNAUTHENTICATED;
    case 403:
      return StatusCode::PERMISSION_DENIED;
    case 404:
      return StatusCode::NOT_FOUND;
    case 405:
      return StatusCode::UNIMPLEMENTED;
    case 408:
      return StatusCode::DEADLINE_EXCEEDED;
    case 409:
      return StatusCode::ABORTED;
    case 410:
      return StatusCode::NOT_FOUND;
    case 412:
      return StatusCode::FAILED_PRECONDITION;
    case 413:
      return StatusCode::INVALID_ARGUMENT;
    case 414:
      return StatusCode::INVALID_ARGUMENT;
    case 416:
      return StatusCode::OUT_OF_RANGE;
    case 422:
      return StatusCode::INVALID_ARGUMENT;
    case 429:
      return StatusCode::RESOURCE_EXHAUSTED;
    case 431:
      return StatusCode::INVALID_ARGUMENT;
    case 499:
      return StatusCode::CANCELLED;
    case 500:
      return StatusCode::INTERNAL;
    case 501:
      return StatusCode::UNIMPLEMENTED;
    case 502:
      return StatusCode::UNAVAILABLE;
    case 503:
      return StatusCode::UNAVAILABLE;
    case 504:
      return StatusCode::DEADLINE_EXCEEDED;
    default:
      break;
  }
  if (http_status >= 200 && http_status < 300) return StatusCode::OK;
  // Redirects are never followed: the configured upstream URL is wrong.
  if (http_status >= 300 && http_status < 400) return StatusCode::INTERNAL;
  // The adapter sent a request OSM refused for a reason it did not name.
  if (http_status >= 400 && http_status < 500) return StatusCode::FAILED_PRECONDITION;
  if (http_status >= 500 && http_status < 600) return StatusCode::INTERNAL;
  return StatusCode::UNKNOWN;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  static constexpr absl::Duration kMaxDelay = absl::Hours(24);
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  if (absl::ascii_isdigit(static_cast<unsigned char>(value.front()))) {
    for (char c : value) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    // delta-seconds too large to represent saturate (RFC 9111, 1.2.2).
    std::uint32_t seconds;
    if (value.size() > 9 || !absl::SimpleAtoi(value, &seconds)) return kMaxDelay;
    return std::min(absl::Seconds(seconds), kMaxDelay);
  }
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(), &when, &error)) {
    return std::nullopt;
  }
  return std::clamp(when - now, absl::ZeroDuration(), kMaxDelay);
}

const HttpResponse& RedactEchoedSecrets(const HttpResponse& http, const CallSecrets& secrets,
                                        std::optional<HttpResponse>& storage) {
  if (secrets.empty()) return http;
  bool echoed = secrets.AppearIn(http.body);
  for (const auto& [name, value] : http.headers) echoed = echoed || secrets.AppearIn(value);
  if (!echoed) return http;
  storage = http;
  storage->body = secrets.Redact(storage->body);
  for (auto& [name, value] : storage->headers) value = secrets.Redact(value);
  return *storage;
}

namespace {

// The mapping of every operation; `Answer` is WithdrawResponse or OsmAnswer,
// which have the same fields.
template <typename Answer>
MappedOutcome<Answer> MapOutcome(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                                 const CallSecrets& secrets, OperationKind kind,
                                 std::size_t body_limit) {
  if (!outcome.ok()) return MapTransportError<Answer>(outcome.status());
  // Redacted before anything is parsed or cut, so no part of a secret the
  // upstream echoed survives; copied only when there is something to redact.
  std::optional<HttpResponse> redacted;
  const HttpResponse& http = RedactEchoedSecrets(*outcome, secrets, redacted);
  // A cut-off body is not parsed: its end is missing.
  OsmBody body = http.body_truncated ? OsmBody{OsmBody::Shape::kNotJsonObject, "", "", ""}
                                     : ParseOsmBody(http.body);
  const absl::string_view header_request_id = http.header("x-request-id");

  MappedOutcome<Answer> result;
  Answer& response = result.response;
  response.set_http_status(http.status);
  // Parsing may have unescaped a secret that the raw body hid.
  response.set_error_code(SanitizeAscii(secrets.Redact(body.error_code), kMaxErrorCodeBytes));
  response.set_error_msg(SanitizeText(secrets.Redact(body.error_msg), kMaxErrorMsgBytes));
  response.set_request_id(
      SanitizeAscii(secrets.Redact(header_request_id.empty() ? body.request_id : header_request_id),
                    kMaxRequestIdBytes));
  result.retry_delay = ParseRetryAfter(http.header("retry-after"), now);

  const bool http_ok = http.status >= 200 && http.status < 300;
  const bool body_ok =
      body.shape == OsmBody::Shape::kEmpty || body.shape == OsmBody::Shape::kObject;
  if (http_ok && body_ok && body.error_code.empty()) {
    result.status = grpc::Status::OK;
    return result;
  }

  StatusCode code;
  std::optional<AdapterReason> adapter_reason;  // the adapter's domain, else OSM's
  const OsmErrorCode* known = FindOsmErrorCode(response.error_code());
  if (known != nullptr) {
    code = known->http_status_decides && !http_ok ? GrpcCodeForHttpStatus(http.status)
                                                  : known->grpc_code;
    result.reason = std::string(known->reason);
  } else if (!http_ok) {
    code = GrpcCodeForHttpStatus(http.status);
    result.reason =
        http.status >= 300 && http.status < 400 ? "UPSTREAM_REDIRECT" : "UPSTREAM_HTTP_ERROR";
  } else {
    // A 2xx that is not a plain success: whether a write happened cannot be
    // told; a read only failed.
    code = kind == OperationKind::kRead && (http.body_truncated || !body_ok) ? StatusCode::INTERNAL
                                                                             : StatusCode::UNKNOWN;
    if (http.body_truncated) {
      adapter_reason = AdapterReason::kUpstreamResponseTooLarge;
    } else if (!body_ok) {
      adapter_reason = AdapterReason::kMalformedUpstreamResponse;
    } else {
      result.reason = "UNKNOWN_ERROR_CODE";
    }
  }
  if (code == StatusCode::OK) code = StatusCode::UNKNOWN;  // unreachable by the rules above

  google::rpc::ErrorInfo info;
  if (adapter_reason) {
    info = AdapterErrorInfo(*adapter_reason);
    result.reason = info.reason();
  } else {
    info.set_reason(result.reason);
    info.set_domain(std::string(kUpstreamDomain));
  }
  auto& metadata = *info.mutable_metadata();
  if (!response.error_code().empty()) metadata["errorCode"] = response.error_code();
  metadata["httpStatus"] = absl::StrCat(http.status);
  if (!response.request_id().empty()) metadata["requestId"] = response.request_id();

  google::rpc::RequestInfo request_info;
  request_info.set_request_id(response.request_id());
  google::rpc::RetryInfo retry_info;
  if (result.retry_delay) retry_info = RetryInfoFor(*result.retry_delay);

  const std::string message = !response.error_msg().empty() && body_ok && !http.body_truncated
                                  ? response.error_msg()
                                  : DescribeAnswer(http, body, response.error_code(), body_limit);
  result.status = MakeRichStatus(code, message, info,
                                 {response.request_id().empty() ? nullptr : &request_info,
                                  result.retry_delay ? &retry_info : nullptr, &response});
  return result;
}

}  // namespace

MappedWithdraw MapWithdrawOutcome(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                                  const CallSecrets& secrets) {
  return MapOutcome<WithdrawResponse>(outcome, now, secrets, OperationKind::kWrite,
                                      kMaxResponseBodyBytes);
}

MappedAnswer MapOsmAnswer(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                          const CallSecrets& secrets, OperationKind kind, std::size_t body_limit) {
  return MapOutcome<huaweicloud::osm::v2::OsmAnswer>(outcome, now, secrets, kind, body_limit);
}

}  // namespace osm
