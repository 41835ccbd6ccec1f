#include "server/osm/message_mapping.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/json_util.h"
#include "server/osm/adapter_errors.h"
#include "server/osm/osm_message_bodies.pb.h"
#include "server/osm/rich_status.h"

namespace osm {
namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the response messages

template <typename Response>
MappedCall<Response> FromAnswer(MappedAnswer mapped) {
  MappedCall<Response> out;
  out.status = std::move(mapped.status);
  out.answer = std::move(mapped.response);
  out.reason = std::move(mapped.reason);
  out.retry_delay = mapped.retry_delay;
  return out;
}

template <typename Response>
MappedCall<Response> MapWrite(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                              const CallSecrets& secrets) {
  MappedCall<Response> out = FromAnswer<Response>(
      MapOsmAnswer(outcome, now, secrets, OperationKind::kWrite, kMaxWriteAnswerBytes));
  if (out.status.ok()) out.response.set_request_id(out.answer.request_id());
  return out;
}

// Replaces every secret in every string of `message`, recursively. Only for
// answers whose JSON had escapes, which may have hidden a secret from the
// redaction of the raw body.
void RedactStrings(google::protobuf::Message& message, const CallSecrets& secrets) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          reflection->SetRepeatedString(
              &message, field, i, secrets.Redact(reflection->GetRepeatedString(message, field, i)));
        }
      } else {
        reflection->SetString(&message, field,
                              secrets.Redact(reflection->GetString(message, field)));
      }
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          RedactStrings(*reflection->MutableRepeatedMessage(&message, field, i), secrets);
        }
      } else {
        RedactStrings(*reflection->MutableMessage(&message, field), secrets);
      }
    }
  }
}

template <typename Body>
bool HasErrorCode(const Body& body) {
  return !body.error_code().empty() || !body.code().empty() || !body.error().error_code().empty() ||
         !body.error().code().empty();
}

// A read whose 2xx answer is not the documented shape: nothing changed, the
// answer is unusable.
grpc::Status MalformedRead(const OsmAnswer& answer, absl::string_view operation,
                           absl::string_view why) {
  google::rpc::ErrorInfo info = AdapterErrorInfo(AdapterReason::kMalformedUpstreamResponse);
  (*info.mutable_metadata())["httpStatus"] = absl::StrCat(answer.http_status());
  if (!answer.request_id().empty()) (*info.mutable_metadata())["requestId"] = answer.request_id();
  google::rpc::RequestInfo request_info;
  request_info.set_request_id(answer.request_id());
  return MakeRichStatus(
      grpc::StatusCode::INTERNAL,
      absl::StrCat("OSM answered HTTP ", answer.http_status(), " with a body that is not ",
                   operation, "'s answer: ", SanitizeText(why, kMaxRawBodyInMessageBytes)),
      info, {answer.request_id().empty() ? nullptr : &request_info, &answer});
}

// A read: the body parsed into `Body` and, when OSM reported no error,
// copied into the response by `convert`; everything else by MapOsmAnswer.
template <typename Response, typename Body, typename Convert>
MappedCall<Response> MapRead(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                             const CallSecrets& secrets, absl::string_view operation,
                             std::size_t body_limit, Convert convert) {
  std::string parse_error = "an empty body";
  if (outcome.ok() && outcome->status >= 200 && outcome->status < 300 && !outcome->body_truncated) {
    std::optional<HttpResponse> redacted;
    const HttpResponse& http = RedactEchoedSecrets(*outcome, secrets, redacted);
    const absl::string_view json = absl::StripAsciiWhitespace(http.body);
    Body body;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    if (!json.empty()) {
      const auto parsed = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &body, options);
      // The parser's message quotes values unescaped: a secret that the raw
      // body hid behind an escape would show in it.
      parse_error =
          parsed.ok()
              ? ""
              : secrets.Redact(absl::string_view(parsed.message().data(), parsed.message().size()));
    }
    if (parse_error.empty() && !HasErrorCode(body)) {
      MappedCall<Response> out;
      out.answer.set_http_status(http.status);
      const absl::string_view header_request_id = http.header("x-request-id");
      out.answer.set_request_id(SanitizeAscii(
          secrets.Redact(header_request_id.empty() ? absl::string_view(body.request_id())
                                                   : header_request_id),
          kMaxRequestIdBytes));
      convert(body, out.response);
      out.response.set_request_id(out.answer.request_id());
      if (!secrets.empty() && json.find('\\') != absl::string_view::npos) {
        RedactStrings(out.response, secrets);
      }
      return out;
    }
  }
  MappedCall<Response> out =
      FromAnswer<Response>(MapOsmAnswer(outcome, now, secrets, OperationKind::kRead, body_limit));
  if (out.status.ok()) {
    // A 2xx without an error code whose body is not this operation's.
    out.status = MalformedRead(out.answer, operation, parse_error);
    out.reason = std::string(Describe(AdapterReason::kMalformedUpstreamResponse).name);
  }
  return out;
}

void CopyMessage(const internal::QueryMessageInfo& in, CaseMessage& out) {
  out.set_message_id(in.message_id());
  out.set_type(in.type());
  out.set_replier_type(in.replier_type());
  out.set_replier(in.replier());
  out.set_replier_name(in.replier_name());
  out.set_content(in.content());
  OsmTime created = ParseOsmTime(in.create_time());
  out.set_create_time(std::move(created.text));
  if (created.time) {
    // Whole seconds rounded down, so that nanos count forward even before
    // 1970, as google.protobuf.Timestamp requires.
    const std::int64_t seconds = absl::ToUnixSeconds(*created.time);
    out.mutable_create_timestamp()->set_seconds(seconds);
    out.mutable_create_timestamp()->set_nanos(static_cast<std::int32_t>(
        absl::ToInt64Nanoseconds(*created.time - absl::FromUnixSeconds(seconds))));
  }
  out.set_is_first_message(in.is_first_message() == 1);
  out.set_iam_user_type(in.iam_user_type());
  for (const internal::SimpleAccessory& accessory : in.accessory_list()) {
    Attachment* attachment = out.add_attachments();
    attachment->set_accessory_id(accessory.accessory_id());
    attachment->set_file_name(accessory.file_actual_name());
  }
}

template <typename Messages>
void CopyMessages(const Messages& in, google::protobuf::RepeatedPtrField<CaseMessage>& out) {
  out.Reserve(in.size());
  for (const internal::QueryMessageInfo& message : in) CopyMessage(message, *out.Add());
}

void CopyNewMessages(const internal::NewMessagesBody& body,
                     google::protobuf::RepeatedPtrField<CaseMessages>& cases,
                     google::protobuf::RepeatedPtrField<CaseReadStatus>& statuses) {
  for (const internal::UserInstantIncidentMsg& in : body.immsg()) {
    CaseMessages* out = cases.Add();
    out->set_case_id(in.incident_id());
    CopyMessages(in.message_list(), *out->mutable_messages());
  }
  for (const internal::ImStatus& in : body.imstatus()) {
    CaseReadStatus* out = statuses.Add();
    out->set_case_id(in.incident_id());
    out->set_read(in.status() == 1);
  }
}

// Digits only: seconds (at most 10 digits) or milliseconds (13) since 1970.
std::optional<absl::Time> ParseEpoch(absl::string_view digits) {
  std::int64_t value;
  if (!absl::SimpleAtoi(digits, &value)) return std::nullopt;
  if (digits.size() <= 10) return absl::FromUnixSeconds(value);
  if (digits.size() == 13) return absl::FromUnixMillis(value);
  return std::nullopt;
}

}  // namespace

OsmTime ParseOsmTime(const google::protobuf::Value& value) {
  OsmTime out;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      out.text = value.string_value();
      break;
    case google::protobuf::Value::kNumberValue: {
      const double number = value.number_value();
      if (number >= 0 && number < 1e15 && std::floor(number) == number) {
        out.text = absl::StrCat(static_cast<std::int64_t>(number));
      } else {
        out.text = absl::StrCat(number);
        return out;
      }
      break;
    }
    default:
      return out;
  }
  const absl::string_view text = absl::StripAsciiWhitespace(out.text);
  if (text.empty()) return out;
  if (std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    out.time = ParseEpoch(text);
    return out;
  }
  static constexpr const char* kForms[] = {
      "%Y-%m-%d%ET%H:%M:%E*S%Ez",  // RFC 3339: "Z" or an offset
      "%Y-%m-%d%ET%H:%M:%E*S",     // no offset: UTC
      "%Y-%m-%d %H:%M:%E*S",
  };
  // google.protobuf.Timestamp's range, years 1 to 9999: ParseTime also
  // takes longer years and "infinite-future", which are none of the forms.
  static const absl::Time kFirst = absl::FromUnixSeconds(-62'135'596'800);
  static const absl::Time kEnd = absl::FromUnixSeconds(253'402'300'800);
  for (const char* form : kForms) {
    absl::Time time;
    std::string error;
    if (absl::ParseTime(form, text, absl::UTCTimeZone(), &time, &error)) {
      if (time >= kFirst && time < kEnd) out.time = time;
      break;
    }
  }
  return out;
}

MappedCall<SendMessageResponse> MapSendMessageOutcome(const absl::StatusOr<HttpResponse>& outcome,
                                                      absl::Time now, const CallSecrets& secrets) {
  return MapWrite<SendMessageResponse>(outcome, now, secrets);
}

MappedCall<MarkMessagesReadResponse> MapMarkMessagesReadOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets) {
  return MapWrite<MarkMessagesReadResponse>(outcome, now, secrets);
}

MappedCall<ListMessagesResponse> MapListMessagesOutcome(const absl::StatusOr<HttpResponse>& outcome,
                                                        absl::Time now, const CallSecrets& secrets,
                                                        int offset) {
  return MapRead<ListMessagesResponse, internal::MessageListBody>(
      outcome, now, secrets, "ListMessages", kMaxPageAnswerBytes,
      [offset](const internal::MessageListBody& body, ListMessagesResponse& out) {
        out.set_total_count(body.count());
        CopyMessages(body.message_list(), *out.mutable_messages());
        const std::int64_t next = static_cast<std::int64_t>(offset) + body.message_list_size();
        if (body.message_list_size() > 0 && next < body.count()) {
          out.set_next_offset(static_cast<std::int32_t>(next));
        }
      });
}

MappedCall<ListMoreMessagesResponse> MapListMoreMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets) {
  return MapRead<ListMoreMessagesResponse, internal::MessageListBody>(
      outcome, now, secrets, "ListMoreInstantMessages", kMaxPageAnswerBytes,
      [](const internal::MessageListBody& body, ListMoreMessagesResponse& out) {
        out.set_total_count(body.count());
        CopyMessages(body.message_list(), *out.mutable_messages());
      });
}

MappedCall<PollNewMessagesResponse> MapPollNewMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets) {
  return MapRead<PollNewMessagesResponse, internal::NewMessagesBody>(
      outcome, now, secrets, "ListNewInstantMessages", kMaxListAnswerBytes,
      [](const internal::NewMessagesBody& body, PollNewMessagesResponse& out) {
        CopyNewMessages(body, *out.mutable_cases(), *out.mutable_read_statuses());
        out.set_last_message_time_id(body.last_message_time_id());
      });
}

MappedCall<CountUnreadMessagesResponse> MapCountUnreadMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets) {
  return MapRead<CountUnreadMessagesResponse, internal::UnreadBody>(
      outcome, now, secrets, "ListUnreadNewInstantMessages", kMaxPageAnswerBytes,
      [](const internal::UnreadBody& body, CountUnreadMessagesResponse& out) {
        for (const internal::ImUnread& in : body.imunread()) {
          UnreadCount* count = out.add_counts();
          count->set_case_id(in.incident_id());
          count->set_unread_count(in.unread_num());
          count->set_status(in.status());
        }
      });
}

MappedCall<ListCaseMessagesResponse> MapListCaseMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets) {
  return MapRead<ListCaseMessagesResponse, internal::CaseDetailBody>(
      outcome, now, secrets, "ShowCaseDetail", kMaxListAnswerBytes,
      [](const internal::CaseDetailBody& body, ListCaseMessagesResponse& out) {
        CopyMessages(body.incident_detail_info().message_list(), *out.mutable_messages());
      });
}

}  // namespace osm
