// Fuzzes the mapping of OSM's answers to the rest of the message group:
// every Map*Outcome() of server/osm/message_mapping.h, and ParseOsmTime().
//
// Input: the lines of response_mapper_fuzzer.cc (the HTTP status or a
// transport error, X-Request-Id, Retry-After, the token, flags, the body,
// with "@S@" and "@U@" for the token's echoes), so that the two corpora can
// trade inputs. In line 5, besides 't' (the body was cut off), the first
// run of digits is ListMessages' request offset (0 without one, at most
// 65535 as validation allows).
//
// Each input is mapped by all seven operations. MapWithdrawOutcome() on the
// same outcome is the reference for the rules the message group shares with
// Withdraw. Invariants checked on every input and operation:
//   - never OK for a transport error, a non-2xx status or a cut-off body;
//     OK carries no details, no reason and no error code;
//   - the status message is at most 1024 bytes of valid UTF-8; every string
//     of the response is valid UTF-8; the request id (a trailer) is
//     printable ASCII and bounded; a Retry-After delay is 0 to a day;
//   - every non-OK status carries details that agree with it, exactly one
//     ErrorInfo whose reason is the mapping's, and, when OSM answered, exactly
//     one OsmAnswer equal to the mapping's `answer`; none after a transport
//     error;
//   - the writes (SendMessage, MarkMessagesRead) give Withdraw's code, reason
//     and answer, so UNKNOWN, never INTERNAL, for a cut-off or malformed 2xx;
//     a read gives Withdraw's code and reason for an error (except one
//     nested under another key than "error", which only Withdraw's reader
//     looks for), and for a 2xx without an error code OK or INTERNAL
//     (MALFORMED_UPSTREAM_RESPONSE, or UPSTREAM_RESPONSE_TOO_LARGE when cut
//     off), never UNKNOWN;
//   - the token never appears in anything the result carries: the status
//     message, the reason, the details, the response;
//   - ListMessages' next_offset is unset or the request's offset plus the
//     page, below total_count; every create_timestamp is a valid
//     google.protobuf.Timestamp and comes with a create_time;
//   - ParseOsmTime, on the body as a JSON value and on the body as a string:
//     the text is the string as sent (a number's decimal form); a time is
//     finite and, formatted as RFC 3339, parses back to itself.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_checks.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/message_mapping.h"
#include "server/osm/redaction.h"
#include "server/osm/response_mapper.h"
#include "server/service/request_validation.h"
#include "server/upstream/http_types.h"
#include "tests/support/text_checks.h"

namespace {

using huaweicloud::osm::v2::CaseMessage;
using huaweicloud::osm::v2::OsmAnswer;
using osm::fuzz::CheckMappedOutcome;
using osm::fuzz::ForEachString;
using osm::fuzz::MappingInput;
using osm::fuzz::ReadMappingInput;
using osm::testing::IsValidUtf8;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
// google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z.
constexpr std::int64_t kMinTimestampSeconds = -62'135'596'800;
constexpr std::int64_t kMaxTimestampSeconds = 253'402'300'799;
constexpr char kMalformed[] = "MALFORMED_UPSTREAM_RESPONSE";
constexpr char kTooLarge[] = "UPSTREAM_RESPONSE_TOO_LARGE";

enum class Kind { kWrite, kRead };

void CheckMessages(const google::protobuf::RepeatedPtrField<CaseMessage>& messages) {
  for (const CaseMessage& message : messages) {
    if (!message.has_create_timestamp()) continue;
    OSM_FUZZ_CHECK(!message.create_time().empty(), "a create_timestamp comes with a create_time");
    const auto& timestamp = message.create_timestamp();
    OSM_FUZZ_CHECK(timestamp.nanos() >= 0 && timestamp.nanos() < 1'000'000'000,
                   "a create_timestamp's nanos are 0 to 999,999,999");
    OSM_FUZZ_CHECK(
        timestamp.seconds() >= kMinTimestampSeconds && timestamp.seconds() <= kMaxTimestampSeconds,
        "a create_timestamp lies within years 1 to 9999");
  }
}

void CheckResponse(const huaweicloud::osm::v2::ListMessagesResponse& response, int offset) {
  CheckMessages(response.messages());
  if (response.next_offset() != 0) {
    OSM_FUZZ_CHECK(response.next_offset() == offset + response.messages_size() &&
                       response.next_offset() < response.total_count(),
                   "next_offset is the offset plus the page, below total_count");
  }
}

void CheckResponse(const huaweicloud::osm::v2::ListMoreMessagesResponse& response, int) {
  CheckMessages(response.messages());
}

void CheckResponse(const huaweicloud::osm::v2::PollNewMessagesResponse& response, int) {
  for (const auto& one_case : response.cases()) CheckMessages(one_case.messages());
}

void CheckResponse(const huaweicloud::osm::v2::ListCaseMessagesResponse& response, int) {
  CheckMessages(response.messages());
}

void CheckResponse(const google::protobuf::Message&, int) {}

// True for a 2xx that Withdraw cannot read: cut off, or a body that is not
// a JSON object, and no error code to go by.
bool UnreadableSuccess(const absl::StatusOr<osm::HttpResponse>& outcome,
                       const osm::MappedWithdraw& reference) {
  return outcome.ok() && outcome->status >= 200 && outcome->status < 300 &&
         reference.response.error_code().empty() &&
         (reference.reason == kMalformed || reference.reason == kTooLarge);
}

// True if the JSON object `body` has no error code where OSM's documented
// shapes put one (error_code, errorCode or code, at the top or in "error").
bool ErrorCodeOnlyNested(absl::string_view body) {
  google::protobuf::Struct object;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(body.data(), body.size()), &object)
           .ok()) {
    return false;
  }
  const auto has_code = [](const google::protobuf::Struct& level) {
    for (const char* key : {"error_code", "errorCode", "code"}) {
      const auto it = level.fields().find(key);
      if (it == level.fields().end()) continue;
      const google::protobuf::Value& value = it->second;
      if (value.kind_case() == google::protobuf::Value::kNumberValue ||
          (value.kind_case() == google::protobuf::Value::kStringValue &&
           !value.string_value().empty())) {
        return true;
      }
    }
    return false;
  };
  const auto error = object.fields().find("error");
  return !has_code(object) &&
         !(error != object.fields().end() &&
           error->second.kind_case() == google::protobuf::Value::kStructValue &&
           has_code(error->second.struct_value()));
}

void CheckAgainstReference(Kind kind, const grpc::Status& status, absl::string_view reason,
                           const OsmAnswer& answer,
                           const absl::StatusOr<osm::HttpResponse>& outcome,
                           const osm::MappedWithdraw& reference) {
  const grpc::StatusCode code = status.error_code();
  if (kind == Kind::kWrite) {
    OSM_FUZZ_CHECK(code == reference.status.error_code() && reason == reference.reason,
                   "a write has Withdraw's code and reason");
    OSM_FUZZ_CHECK(answer.http_status() == reference.response.http_status() &&
                       answer.error_code() == reference.response.error_code() &&
                       answer.error_msg() == reference.response.error_msg() &&
                       answer.request_id() == reference.response.request_id(),
                   "a write's answer is Withdraw's");
    if (UnreadableSuccess(outcome, reference)) {
      OSM_FUZZ_CHECK(code == grpc::StatusCode::UNKNOWN,
                     "a write with an unreadable 2xx is UNKNOWN, never INTERNAL");
    }
    return;
  }
  if (outcome.ok() && outcome->body_truncated && reference.response.error_code().empty() &&
      outcome->status >= 200 && outcome->status < 300) {
    OSM_FUZZ_CHECK(code == grpc::StatusCode::INTERNAL && reason == kTooLarge,
                   "a read with a cut-off 2xx is INTERNAL, never UNKNOWN");
  } else if (reference.status.ok() || UnreadableSuccess(outcome, reference)) {
    // The read's own parser decides whether the body is its answer: it may
    // read one that Withdraw's lenient reader takes as malformed (an object
    // with a repeated key, which google.protobuf.Struct refuses).
    OSM_FUZZ_CHECK(status.ok() || (code == grpc::StatusCode::INTERNAL && reason == kMalformed),
                   "a read of a 2xx without an error code is OK or INTERNAL, never UNKNOWN");
  } else if (status.ok()) {
    // A difference left to decide: Withdraw's reader (ParseOsmBody) also
    // takes an error object nested under any key, a read's parser only the
    // documented places, so a read returns the page.
    OSM_FUZZ_CHECK(ErrorCodeOnlyNested(outcome->body),
                   "a read is OK for an error only when the error is nested under another key");
  } else {
    OSM_FUZZ_CHECK(code == reference.status.error_code() && reason == reference.reason,
                   "a read of an error has Withdraw's code and reason");
  }
}

template <typename Response>
void CheckMapped(Kind kind, const osm::MappedCall<Response>& mapped,
                 const absl::StatusOr<osm::HttpResponse>& outcome,
                 const osm::MappedWithdraw& reference, absl::string_view secret, int offset) {
  const grpc::Status& status = mapped.status;
  const OsmAnswer& answer = mapped.answer;
  const google::rpc::Status details = CheckMappedOutcome(outcome, mapped, answer, secret);
  CheckAgainstReference(kind, status, mapped.reason, answer, outcome, reference);

  if (status.ok()) {
    OSM_FUZZ_CHECK(answer.http_status() == outcome->status, "OK's answer has the HTTP status");
    OSM_FUZZ_CHECK(mapped.response.request_id() == answer.request_id(),
                   "the response's request id is the answer's");
    ForEachString(mapped.response, [](absl::string_view text) {
      OSM_FUZZ_CHECK(IsValidUtf8(std::string(text)), "every string of the response is UTF-8");
    });
    CheckResponse(mapped.response, offset);
    return;
  }
  int answers = 0;
  OsmAnswer detail_answer;
  for (const auto& detail : details.details()) {
    if (detail.Is<OsmAnswer>()) answers += detail.UnpackTo(&detail_answer) ? 1 : 0;
  }
  if (outcome.ok()) {
    OSM_FUZZ_CHECK(answers == 1, "a non-OK status after OSM answered carries one OsmAnswer");
    OSM_FUZZ_CHECK(detail_answer.SerializeAsString() == answer.SerializeAsString() &&
                       answer.http_status() == outcome->status,
                   "the OsmAnswer detail is the mapping's answer, with the HTTP status");
  } else {
    OSM_FUZZ_CHECK(answers == 0 && answer.http_status() == 0,
                   "a transport error carries no OsmAnswer");
  }
}

void CheckOsmTime(const google::protobuf::Value& value) {
  const osm::OsmTime parsed = osm::ParseOsmTime(value);
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      OSM_FUZZ_CHECK(parsed.text == value.string_value(), "a string's text is the string");
      break;
    case google::protobuf::Value::kNumberValue:
      OSM_FUZZ_CHECK(!parsed.text.empty(), "a number has a text");
      break;
    default:
      OSM_FUZZ_CHECK(parsed.text.empty() && !parsed.time, "neither string nor number: nothing");
      return;
  }
  if (!parsed.time) return;
  OSM_FUZZ_CHECK(*parsed.time != absl::InfiniteFuture() && *parsed.time != absl::InfinitePast(),
                 "a parsed time is finite");
  google::protobuf::Value formatted;
  formatted.set_string_value(
      absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", *parsed.time, absl::UTCTimeZone()));
  const osm::OsmTime again = osm::ParseOsmTime(formatted);
  OSM_FUZZ_CHECK(again.time && *again.time == *parsed.time,
                 "a parsed time, formatted as RFC 3339, parses back to itself");
}

void CheckTimes(absl::string_view body) {
  google::protobuf::Value value;
  if (IsValidUtf8(std::string(body))) {
    value.set_string_value(std::string(body));
    CheckOsmTime(value);
  }
  const absl::string_view json = absl::StripAsciiWhitespace(body);
  if (!json.empty() && google::protobuf::util::JsonStringToMessage(
                           google::protobuf::StringPiece(json.data(), json.size()), &value)
                           .ok()) {
    CheckOsmTime(value);
  }
}

int OffsetFromFlags(absl::string_view flags) {
  const std::size_t start = flags.find_first_of("0123456789");
  if (start == absl::string_view::npos) return 0;
  std::size_t end = start;
  while (end < flags.size() && absl::ascii_isdigit(static_cast<unsigned char>(flags[end]))) ++end;
  int offset = 0;
  if (!absl::SimpleAtoi(flags.substr(start, end - start), &offset)) return osm::kMaxOffset;
  return std::min(offset, osm::kMaxOffset);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const MappingInput input =
      ReadMappingInput(absl::string_view(reinterpret_cast<const char*>(data), size));
  const absl::StatusOr<osm::HttpResponse>& outcome = input.outcome;
  const absl::string_view secret = input.secret;
  const int offset = OffsetFromFlags(input.lines[4]);
  osm::CallSecrets secrets;
  secrets.Add(std::string(secret));
  const osm::MappedWithdraw reference = osm::MapWithdrawOutcome(outcome, kNow, secrets);

  CheckMapped(Kind::kWrite, osm::MapSendMessageOutcome(outcome, kNow, secrets), outcome, reference,
              secret, offset);
  CheckMapped(Kind::kWrite, osm::MapMarkMessagesReadOutcome(outcome, kNow, secrets), outcome,
              reference, secret, offset);
  CheckMapped(Kind::kRead, osm::MapListMessagesOutcome(outcome, kNow, secrets, offset), outcome,
              reference, secret, offset);
  CheckMapped(Kind::kRead, osm::MapListMoreMessagesOutcome(outcome, kNow, secrets), outcome,
              reference, secret, offset);
  CheckMapped(Kind::kRead, osm::MapPollNewMessagesOutcome(outcome, kNow, secrets), outcome,
              reference, secret, offset);
  CheckMapped(Kind::kRead, osm::MapCountUnreadMessagesOutcome(outcome, kNow, secrets), outcome,
              reference, secret, offset);
  CheckMapped(Kind::kRead, osm::MapListCaseMessagesOutcome(outcome, kNow, secrets), outcome,
              reference, secret, offset);
  if (outcome.ok()) CheckTimes(outcome->body);
  return 0;
}
