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
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_checks.h"
#include "google/rpc/error_details.pb.h"
#include "server/osm/redaction.h"
#include "server/osm/response_mapper.h"
#include "server/osm/rich_status.h"
#include "server/upstream/http_types.h"
#include "tests/support/text_checks.h"

namespace {

using osm::fuzz::CountErrorInfos;
using osm::fuzz::ForEachString;
using osm::fuzz::IsPrintableAscii;
using osm::fuzz::IsTokenLike;
using osm::fuzz::ParsedDetails;
using osm::testing::IsValidUtf8;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

std::string WithEchoes(absl::string_view text, absl::string_view secret) {
  std::string escaped;
  if (!secret.empty()) {
    escaped = absl::StrFormat("\\u%04x", static_cast<unsigned char>(secret[0]));
    escaped.append(secret.substr(1).data(), secret.size() - 1);
  }
  return absl::StrReplaceAll(text, {{"@S@", secret}, {"@U@", escaped}});
}

absl::StatusOr<osm::HttpResponse> Outcome(absl::string_view status_line,
                                          std::vector<absl::string_view>& lines,
                                          absl::string_view secret) {
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
  const grpc::Status& status = mapped.status;
  const auto& response = mapped.response;

  OSM_FUZZ_CHECK(status.error_message().size() <= osm::kMaxStatusMessageBytes,
                 "the status message is at most 1024 bytes");
  OSM_FUZZ_CHECK(IsValidUtf8(status.error_message()), "the status message is valid UTF-8");
  OSM_FUZZ_CHECK(response.error_code().size() <= osm::kMaxErrorCodeBytes,
                 "the error code is bounded");
  OSM_FUZZ_CHECK(response.request_id().size() <= osm::kMaxRequestIdBytes,
                 "the request id is bounded");
  OSM_FUZZ_CHECK(IsPrintableAscii(response.request_id()),
                 "the request id (a trailer) is printable ASCII");
  OSM_FUZZ_CHECK(IsValidUtf8(response.error_msg()), "the error message is valid UTF-8");
  if (mapped.retry_delay) {
    OSM_FUZZ_CHECK(
        *mapped.retry_delay >= absl::ZeroDuration() && *mapped.retry_delay <= absl::Hours(24),
        "a Retry-After delay is between 0 and a day");
  }

  if (status.ok()) {
    OSM_FUZZ_CHECK(outcome.ok(), "a transport error is never OK");
    OSM_FUZZ_CHECK(outcome->status >= 200 && outcome->status < 300, "only a 2xx is OK");
    OSM_FUZZ_CHECK(!outcome->body_truncated, "a cut-off body is never OK");
    OSM_FUZZ_CHECK(response.error_code().empty(), "never OK with a non-empty error code");
    OSM_FUZZ_CHECK(status.error_details().empty(), "OK carries no details");
    OSM_FUZZ_CHECK(mapped.reason.empty(), "OK has no reason");
  } else {
    const google::rpc::Status details = ParsedDetails(status);
    OSM_FUZZ_CHECK(CountErrorInfos(details) == 1, "exactly one ErrorInfo in a non-OK status");
    google::rpc::ErrorInfo info;
    for (const auto& detail : details.details()) {
      if (detail.UnpackTo(&info)) break;
    }
    OSM_FUZZ_CHECK(!info.reason().empty() && info.reason() == mapped.reason,
                   "the ErrorInfo's reason is the mapping's reason");
    OSM_FUZZ_CHECK(!info.domain().empty(), "the ErrorInfo has a domain");
    if (!secret.empty()) {
      ForEachString(details, [&](absl::string_view text) {
        OSM_FUZZ_CHECK(!absl::StrContains(text, secret), "the token is not in the details");
      });
    }
  }

  if (!secret.empty()) {
    OSM_FUZZ_CHECK(!absl::StrContains(status.error_message(), secret) &&
                       !absl::StrContains(mapped.reason, secret),
                   "the token is not in the status message or reason");
    ForEachString(response, [&](absl::string_view text) {
      OSM_FUZZ_CHECK(!absl::StrContains(text, secret), "the token is not in the response");
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines = absl::StrSplit(input, absl::MaxSplits('\n', 5));
  lines.resize(6);
  const absl::string_view secret = IsTokenLike(lines[3]) ? lines[3] : absl::string_view();

  const absl::StatusOr<osm::HttpResponse> outcome = Outcome(lines[0], lines, secret);
  if (outcome.ok()) CheckParseOsmBody(outcome->body);
  CheckMapped(outcome, secret);
  return 0;
}
