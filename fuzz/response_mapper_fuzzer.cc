// Fuzzes the mapping of an upstream answer to a gRPC status:
// MapWithdrawOutcome() and ParseOsmBody().
//
// Input, one field per line (a missing line is empty), so that the seed
// corpus in fuzz/corpus/response_mapper/ reads like the answers it stands for:
//
//   line 1  the HTTP status, in decimal ("200"); or "T<code> <message>" for a
//           transport error: <code> in 1..16 is that absl::StatusCode; a
//           larger one wraps to 1 + (<code> - 1) mod 16; 0, and a <code>
//           that is missing, not a number, negative or past 32 bits, give
//           16 (UNAUTHENTICATED)
//   line 2  the X-Request-Id header
//   line 3  the Retry-After header
//   line 4  the caller's token, used as `secret` when it looks like a real
//           token (IsTokenLike: 16+ bytes of base64)
//   line 5  flags: 't' marks the body as cut off at the size limit
//   rest    the body
//
// In lines 2, 3 and the body, "@S@" stands for the token and "@U@" for the
// token with its first byte written as a JSON \u escape: an upstream that
// echoes the token, plainly or hidden behind an escape.
//
// Invariants checked on every input:
//   - never OK with a non-empty error code, nor for a non-2xx status, nor
//     for a transport error; OK carries no details and no reason;
//   - the status message is at most 1024 bytes of valid UTF-8, and the
//     details (google.rpc.Status) agree with the status;
//   - every non-OK status carries exactly one google.rpc.ErrorInfo, whose
//     reason is MappedWithdraw::reason;
//   - what goes into gRPC metadata (the request id) is printable ASCII;
//     the error code and request id respect their bounds;
//   - a Retry-After delay is between 0 and a day;
//   - the token never appears in anything the result carries;
//   - ParseOsmBody: an empty or non-object body yields no fields.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_checks.h"
#include "server/osm/redaction.h"
#include "server/osm/response_mapper.h"
#include "server/upstream/http_types.h"

namespace {

using osm::fuzz::CheckMappedOutcome;
using osm::fuzz::MappingInput;
using osm::fuzz::ReadMappingInput;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

void CheckParseOsmBody(absl::string_view body) {
  const osm::OsmBody parsed = osm::ParseOsmBody(body);
  if (absl::StripAsciiWhitespace(body).empty()) {
    OSM_FUZZ_CHECK(parsed.shape == osm::OsmBody::Shape::kEmpty, "a blank body is kEmpty");
  }
  if (parsed.shape == osm::OsmBody::Shape::kEmpty ||
      parsed.shape == osm::OsmBody::Shape::kNotJsonObject) {
    OSM_FUZZ_CHECK(
        parsed.error_code.empty() && parsed.error_msg.empty() && parsed.request_id.empty(),
        "an empty or non-object body yields no fields");
  }
}

void CheckMapped(const absl::StatusOr<osm::HttpResponse>& outcome, absl::string_view secret) {
  osm::CallSecrets secrets;
  secrets.Add(std::string(secret));
  const osm::MappedWithdraw mapped = osm::MapWithdrawOutcome(outcome, kNow, secrets);
  CheckMappedOutcome(outcome, mapped, mapped.response, secret);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const MappingInput input =
      ReadMappingInput(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (input.outcome.ok()) CheckParseOsmBody(input.outcome->body);
  CheckMapped(input.outcome, input.secret);
  return 0;
}
