#ifndef OSM_FUZZ_FUZZ_CHECKS_H_
#define OSM_FUZZ_FUZZ_CHECKS_H_

#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/upstream/http_types.h"

// Invariant checks shared by the fuzz targets. A broken invariant prints one
// line naming it (never a secret) and aborts, which libFuzzer records as a
// crash with the input that caused it.

#define OSM_FUZZ_CHECK(condition, what) \
  ((condition) ? static_cast<void>(0) : ::osm::fuzz::Fail(__FILE__, __LINE__, #condition, what))

namespace osm::fuzz {

[[noreturn]] void Fail(const char* file, int line, const char* condition, absl::string_view what);

// True if every byte is printable ASCII (0x20-0x7E): what a gRPC metadata
// value may hold.
bool IsPrintableAscii(absl::string_view text);

// The details that `status` carries (its grpc-status-details-bin), parsed;
// aborts if they do not parse or disagree with the status's code or message.
google::rpc::Status ParsedDetails(const grpc::Status& status);

// How many google.rpc.ErrorInfo `details` holds.
int CountErrorInfos(const google::rpc::Status& details);

// Calls `visit` with every string field of `message`, recursively, with
// google.protobuf.Any values unpacked when their type is linked in.
void ForEachString(const google::protobuf::Message& message,
                   const std::function<void(absl::string_view)>& visit);

// A realistic token: at least 16 bytes, all from the base64 alphabet
// (A-Z a-z 0-9 + / =). Nothing the adapter writes itself (words, reasons,
// field names, type URLs, "[REDACTED]", "...", U+FFFD, '?') holds such a run,
// so finding one in the output means it came from the upstream unredacted.
bool IsTokenLike(absl::string_view secret);

// The input of the mapping fuzzers (response_mapper_fuzzer.cc describes it:
// lines, "@S@" and "@U@"), read.
struct MappingInput {
  std::vector<absl::string_view> lines;  // its first five lines and the rest
  absl::string_view secret;              // line 4 if IsTokenLike, else ""
  absl::StatusOr<osm::HttpResponse> outcome;
};
MappingInput ReadMappingInput(absl::string_view input);

// What a validation refused: checks that `status` (not OK) has a message
// of at most 1024 bytes of valid UTF-8, details that agree with it, exactly
// one ErrorInfo, a BadRequest when INVALID_ARGUMENT, and no token of
// `tokens` that looks like one (IsTokenLike) in its message or details.
// Returns the BadRequest, empty for another code.
google::rpc::BadRequest CheckRefusal(const grpc::Status& status,
                                     absl::Span<const absl::string_view> tokens);

// OSM's answer as a mapping read it: the fields that WithdrawResponse and
// OsmAnswer share.
struct AnswerFields {
  absl::string_view error_code;
  absl::string_view error_msg;
  absl::string_view request_id;
  const google::protobuf::Message* message;
};

// The invariants of every mapped outcome, whatever the operation (listed in
// response_mapper_fuzzer.cc): bounds and encodings, OK only for a complete
// 2xx without an error code and then without details or reason, otherwise
// details that agree with the status and exactly one ErrorInfo whose reason
// is `reason`; `secret` (the token, or "") in none of the status message,
// the reason, the details, `answer` and `response`. Returns the details (empty
// for OK).
google::rpc::Status CheckMappedOutcome(const absl::StatusOr<osm::HttpResponse>& outcome,
                                       const grpc::Status& status, absl::string_view reason,
                                       const std::optional<absl::Duration>& retry_delay,
                                       const AnswerFields& answer,
                                       const google::protobuf::Message& response,
                                       absl::string_view secret);

// The same for a MappedOutcome or a MappedCall, whose answer is `answer`.
template <typename Mapped, typename Answer>
google::rpc::Status CheckMappedOutcome(const absl::StatusOr<osm::HttpResponse>& outcome,
                                       const Mapped& mapped, const Answer& answer,
                                       absl::string_view secret) {
  return CheckMappedOutcome(outcome, mapped.status, mapped.reason, mapped.retry_delay,
                            {answer.error_code(), answer.error_msg(), answer.request_id(), &answer},
                            mapped.response, secret);
}

// `encoded` decoded, after checking that it holds only unreserved bytes
// (A-Z a-z 0-9 - _ . ~), the bytes in `also`, and "%XX" with upper-case hex.
std::string CheckedDecode(absl::string_view encoded, absl::string_view also = "");

}  // namespace osm::fuzz

#endif  // OSM_FUZZ_FUZZ_CHECKS_H_
