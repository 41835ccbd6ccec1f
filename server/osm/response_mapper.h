#ifndef OSM_SERVER_OSM_RESPONSE_MAPPER_H_
#define OSM_SERVER_OSM_RESPONSE_MAPPER_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/redaction.h"
#include "server/upstream/http_types.h"

namespace osm {

// Bounds on what the adapter copies out of an upstream answer.
inline constexpr std::size_t kMaxErrorCodeBytes = 64;
inline constexpr std::size_t kMaxErrorMsgBytes = 1024;
inline constexpr std::size_t kMaxRequestIdBytes = 128;
inline constexpr std::size_t kMaxRawBodyInMessageBytes = 256;

// The gRPC result of one call, and what the call's trailers and logs need to
// know about it. `Answer` is the message that carries OSM's answer:
// WithdrawResponse for Withdraw, OsmAnswer for the other operations.
template <typename Answer>
struct MappedOutcome {
  grpc::Status status;
  // OSM's answer; meaningful when OSM answered (http_status != 0), and for
  // Withdraw the response message when `status` is OK.
  Answer response;
  // ErrorInfo.reason; empty when OK.
  std::string reason;
  // From the upstream's Retry-After, when it sent a usable one.
  std::optional<absl::Duration> retry_delay;
};
using MappedWithdraw = MappedOutcome<huaweicloud::osm::v2::WithdrawResponse>;
using MappedAnswer = MappedOutcome<huaweicloud::osm::v2::OsmAnswer>;

// Whether an operation changes something in OSM, which decides what a 2xx
// that cannot be read means (rule 4 of message_service.proto).
enum class OperationKind {
  kWrite,  // UNKNOWN: whether OSM acted cannot be told
  kRead,   // INTERNAL: nothing changed, the answer is just unusable
};

// Maps an upstream outcome (a transport error or an HTTP answer) to the
// gRPC result. Pure: `now` is only used to turn an HTTP-date Retry-After into
// a delay. Every secret of the call that the upstream echoed, in its body or
// its headers, is replaced by "[REDACTED]" in everything the result carries:
// this is the one place where answers are redacted. See
// message_service.proto for the rules.
MappedWithdraw MapWithdrawOutcome(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                                  const CallSecrets& secrets = CallSecrets());

// MapWithdrawOutcome for the other operations: the same rules, with
// OsmAnswer as the detail, `kind` deciding rule 4, and `body_limit` the
// request's limit on the body (named when a body was cut off). An OK result
// means a 2xx without an error code: a read must still parse the body.
MappedAnswer MapOsmAnswer(const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                          const CallSecrets& secrets, OperationKind kind, std::size_t body_limit);

// `http`, or, when it holds one of `secrets` (in its body or a kept
// header), a copy in `storage` with each replaced by "[REDACTED]".
const HttpResponse& RedactEchoedSecrets(const HttpResponse& http, const CallSecrets& secrets,
                                        std::optional<HttpResponse>& storage);

// For values that go into ASCII-only places (gRPC metadata): printable ASCII
// is kept, everything else becomes '?', cut to `max_bytes`.
std::string SanitizeAscii(absl::string_view text, std::size_t max_bytes);

// The gRPC code an HTTP status means when no known error code decides:
// google/rpc/code.proto's HTTP mapping read backwards, plus docs/errors.md's
// choices for the statuses it does not name.
grpc::StatusCode GrpcCodeForHttpStatus(int http_status);

// The delay a Retry-After value asks for: delta-seconds or an IMF-fixdate
// HTTP date. nullopt when absent or unreadable; never negative; at most a day.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

// The parts of a response body the mapping uses, whatever its shape.
struct OsmBody {
  enum class Shape {
    kEmpty,          // nothing but whitespace
    kObject,         // a JSON object; the fields below are what it held
    kNotJsonObject,  // not JSON, or JSON that is not an object
    kWrongTypes,     // a JSON object whose error code is neither string nor number
  };
  Shape shape = Shape::kEmpty;
  std::string error_code;
  std::string error_msg;
  std::string request_id;
};

// Reads a body in any of the shapes OSM and Huawei Cloud gateways use:
// {error_code, error_msg, request_id}, {errorCode, errorMsg},
// {code, message}, or one of those nested one level down under "error".
OsmBody ParseOsmBody(absl::string_view body);

}  // namespace osm

#endif  // OSM_SERVER_OSM_RESPONSE_MAPPER_H_
