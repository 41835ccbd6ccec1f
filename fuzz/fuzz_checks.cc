#include "fuzz/fuzz_checks.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"
#include "server/osm/response_mapper.h"
#include "server/osm/rich_status.h"
#include "tests/support/text_checks.h"

namespace osm::fuzz {
namespace {

// `text` with "@S@" replaced by the token and "@U@" by the token with its
// first byte written as a JSON \u escape.
std::string WithEchoes(absl::string_view text, absl::string_view secret) {
  std::string escaped;
  if (!secret.empty()) {
    escaped = absl::StrFormat("\\u%04x", static_cast<unsigned char>(secret[0]));
    escaped.append(secret.substr(1).data(), secret.size() - 1);
  }
  return absl::StrReplaceAll(text, {{"@S@", secret}, {"@U@", escaped}});
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<osm::HttpResponse> OutcomeFromLines(absl::Span<const absl::string_view> lines,
                                                   absl::string_view secret) {
  absl::string_view status_line = lines[0];
  if (absl::StartsWith(status_line, "T")) {
    status_line.remove_prefix(1);
    const std::size_t space = status_line.find(' ');
    unsigned code = 0;
    if (!absl::SimpleAtoi(status_line.substr(0, space), &code)) code = 0;
    const auto status_code = static_cast<absl::StatusCode>(1 + (code + 15) % 16);
    const absl::string_view message =
        space == absl::string_view::npos ? absl::string_view() : status_line.substr(space + 1);
    return absl::Status(status_code, message);
  }
  osm::HttpResponse http;
  if (!absl::SimpleAtoi(status_line, &http.status)) http.status = 0;
  http.headers.emplace_back("x-request-id", WithEchoes(lines[1], secret));
  http.headers.emplace_back("retry-after", WithEchoes(lines[2], secret));
  http.body_truncated = absl::StrContains(lines[4], 't');
  http.body = WithEchoes(lines[5], secret);
  return http;
}

}  // namespace

void Fail(const char* file, int line, const char* condition, absl::string_view what) {
  std::fprintf(stderr, "%s:%d: invariant broken: %.*s (%s)\n", file, line,
               static_cast<int>(what.size()), what.data(), condition);
  std::abort();
}

bool IsPrintableAscii(absl::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

google::rpc::Status ParsedDetails(const grpc::Status& status) {
  google::rpc::Status details;
  OSM_FUZZ_CHECK(details.ParseFromString(status.error_details()),
                 "grpc-status-details-bin parses as google.rpc.Status");
  OSM_FUZZ_CHECK(details.code() == static_cast<int>(status.error_code()),
                 "the details' code is the status code");
  OSM_FUZZ_CHECK(details.message() == status.error_message(),
                 "the details' message is the status message");
  return details;
}

int CountErrorInfos(const google::rpc::Status& details) {
  int count = 0;
  for (const google::protobuf::Any& detail : details.details()) {
    if (detail.Is<google::rpc::ErrorInfo>()) ++count;
  }
  return count;
}

void ForEachString(const google::protobuf::Message& message,
                   const std::function<void(absl::string_view)>& visit) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (descriptor->full_name() == google::protobuf::Any::descriptor()->full_name()) {
    const auto& any = static_cast<const google::protobuf::Any&>(message);
    visit(any.type_url());
    const google::protobuf::Descriptor* type =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
            std::string(any.type_url().substr(any.type_url().rfind('/') + 1)));
    if (type == nullptr) {
      visit(any.value());  // unknown type: look at its raw bytes
      return;
    }
    std::unique_ptr<google::protobuf::Message> unpacked(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
    OSM_FUZZ_CHECK(unpacked->ParseFromString(any.value()), "every detail parses as its type");
    ForEachString(*unpacked, visit);
    return;
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int k = 0; k < size; ++k) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          visit(reflection->GetRepeatedString(message, field, k));
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          ForEachString(reflection->GetRepeatedMessage(message, field, k), visit);
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      visit(reflection->GetString(message, field));
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               reflection->HasField(message, field)) {
      ForEachString(reflection->GetMessage(message, field), visit);
    }
  }
}

bool IsTokenLike(absl::string_view secret) {
  if (secret.size() < 16) return false;
  for (char c : secret) {
    const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!base64) return false;
  }
  return true;
}

MappingInput ReadMappingInput(absl::string_view input) {
  MappingInput read;
  read.lines = absl::StrSplit(input, absl::MaxSplits('\n', 5));
  read.lines.resize(6);
  read.secret = IsTokenLike(read.lines[3]) ? read.lines[3] : absl::string_view();
  read.outcome = OutcomeFromLines(read.lines, read.secret);
  return read;
}

google::rpc::BadRequest CheckRefusal(const grpc::Status& status,
                                     absl::Span<const absl::string_view> tokens) {
  OSM_FUZZ_CHECK(status.error_message().size() <= osm::kMaxStatusMessageBytes,
                 "the status message is at most 1024 bytes");
  OSM_FUZZ_CHECK(osm::testing::IsValidUtf8(status.error_message()),
                 "the status message is valid UTF-8");
  const google::rpc::Status details = ParsedDetails(status);
  OSM_FUZZ_CHECK(CountErrorInfos(details) == 1, "exactly one ErrorInfo in a non-OK status");
  google::rpc::BadRequest bad_request;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    bool found = false;
    for (const auto& detail : details.details()) found = found || detail.UnpackTo(&bad_request);
    OSM_FUZZ_CHECK(found, "INVALID_ARGUMENT carries a BadRequest");
  }
  for (absl::string_view token : tokens) {
    if (!IsTokenLike(token)) continue;
    OSM_FUZZ_CHECK(!absl::StrContains(status.error_message(), token),
                   "the token is not in the status message");
    ForEachString(details, [&](absl::string_view text) {
      OSM_FUZZ_CHECK(!absl::StrContains(text, token), "the token is not in the details");
    });
  }
  return bad_request;
}

google::rpc::Status CheckMappedOutcome(const absl::StatusOr<osm::HttpResponse>& outcome,
                                       const grpc::Status& status, absl::string_view reason,
                                       const std::optional<absl::Duration>& retry_delay,
                                       const AnswerFields& answer,
                                       const google::protobuf::Message& response,
                                       absl::string_view secret) {
  using osm::testing::IsValidUtf8;
  OSM_FUZZ_CHECK(status.error_message().size() <= osm::kMaxStatusMessageBytes,
                 "the status message is at most 1024 bytes");
  OSM_FUZZ_CHECK(IsValidUtf8(status.error_message()), "the status message is valid UTF-8");
  OSM_FUZZ_CHECK(answer.error_code.size() <= osm::kMaxErrorCodeBytes, "the error code is bounded");
  OSM_FUZZ_CHECK(answer.request_id.size() <= osm::kMaxRequestIdBytes, "the request id is bounded");
  OSM_FUZZ_CHECK(IsPrintableAscii(answer.request_id),
                 "the request id (a trailer) is printable ASCII");
  OSM_FUZZ_CHECK(IsValidUtf8(std::string(answer.error_msg)), "the error message is valid UTF-8");
  if (retry_delay) {
    OSM_FUZZ_CHECK(*retry_delay >= absl::ZeroDuration() && *retry_delay <= absl::Hours(24),
                   "a Retry-After delay is between 0 and a day");
  }

  google::rpc::Status details;
  if (status.ok()) {
    OSM_FUZZ_CHECK(outcome.ok(), "a transport error is never OK");
    OSM_FUZZ_CHECK(outcome->status >= 200 && outcome->status < 300, "only a 2xx is OK");
    OSM_FUZZ_CHECK(!outcome->body_truncated, "a cut-off body is never OK");
    OSM_FUZZ_CHECK(answer.error_code.empty(), "never OK with a non-empty error code");
    OSM_FUZZ_CHECK(status.error_details().empty(), "OK carries no details");
    OSM_FUZZ_CHECK(reason.empty(), "OK has no reason");
  } else {
    details = ParsedDetails(status);
    OSM_FUZZ_CHECK(CountErrorInfos(details) == 1, "exactly one ErrorInfo in a non-OK status");
    google::rpc::ErrorInfo info;
    for (const auto& detail : details.details()) {
      if (detail.UnpackTo(&info)) break;
    }
    OSM_FUZZ_CHECK(!info.reason().empty() && info.reason() == reason,
                   "the ErrorInfo's reason is the mapping's reason");
    OSM_FUZZ_CHECK(!info.domain().empty(), "the ErrorInfo has a domain");
  }

  if (!secret.empty()) {
    OSM_FUZZ_CHECK(
        !absl::StrContains(status.error_message(), secret) && !absl::StrContains(reason, secret),
        "the token is not in the status message or reason");
    const auto absent = [&](absl::string_view text) {
      OSM_FUZZ_CHECK(!absl::StrContains(text, secret), "the token is not in the result");
    };
    ForEachString(details, absent);
    ForEachString(*answer.message, absent);
    ForEachString(response, absent);
  }
  return details;
}

std::string CheckedDecode(absl::string_view encoded, absl::string_view also) {
  std::string decoded;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '%') {
      OSM_FUZZ_CHECK(encoded.size() - i >= 3, "'%' is followed by two hex digits");
      const int high = UpperHexValue(encoded[i + 1]);
      const int low = UpperHexValue(encoded[i + 2]);
      OSM_FUZZ_CHECK(high >= 0 && low >= 0, "'%' is followed by two upper-case hex digits");
      decoded.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      OSM_FUZZ_CHECK(IsUnreserved(c) || also.find(c) != absl::string_view::npos,
                     "an encoded value holds only unreserved bytes and %XX");
      decoded.push_back(c);
    }
  }
  return decoded;
}

}  // namespace osm::fuzz
