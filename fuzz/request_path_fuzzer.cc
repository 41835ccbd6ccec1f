// Fuzzes request validation and path encoding: ValidateWithdrawRequest(),
// EncodePathSegment(), WithdrawPath() and BuildWithdrawHttpRequest().
//
// Input: fields, each ended by a backslash and one more byte (a newline in
// the seeds), as FuzzedDataProvider::ConsumeRandomLengthString reads them
// ("\\\\" is a literal backslash); a missing field is empty:
//
//   flags\            'r': the token is required (pass-through mode)
//   case_id\
//   message_id\
//   language\
//   time_zone\
//   token\            zero to four: the x-auth-token metadata values (input
//                     after the fourth is ignored)
//
// Invariants checked on every input:
//   - the verdict is the contract's rules (docs/errors.md), computed here
//     independently:
//     UNAUTHENTICATED without a token, INVALID_ARGUMENT naming exactly the
//     fields that break a rule, OK otherwise;
//   - a non-OK status: message at most 1024 bytes of valid UTF-8, exactly one
//     ErrorInfo, a BadRequest for INVALID_ARGUMENT, the token never quoted;
//   - an encoded segment holds only unreserved bytes and "%XX" with upper-case
//     hex (so never '/', '?', '#' or a stray '%'), and decodes to its input;
//   - the path has exactly the template's segments, none "." or "..", and
//     each id decodes back from its own segment;
//   - a validated request's header lines hold no control characters.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_checks.h"
#include "google/rpc/error_details.pb.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/upstream_request.h"
#include "server/service/request_validation.h"

namespace {

using huaweicloud::osm::v2::WithdrawRequest;
using osm::fuzz::CheckedDecode;
using osm::fuzz::CheckRefusal;

constexpr char kBaseUrl[] = "https://osm.example.com";

void CheckEncoding(absl::string_view value) {
  const std::string encoded = osm::EncodePathSegment(value);
  OSM_FUZZ_CHECK(encoded.find_first_of("/?#") == std::string::npos,
                 "an encoded segment has no '/', '?' or '#'");
  OSM_FUZZ_CHECK(CheckedDecode(encoded) == value, "decoding an encoded segment gives the input");
}

// The contract's validation rules, written out independently.
struct Verdict {
  bool unauthenticated = false;
  std::set<std::string> invalid_fields;
};

bool HasControl(absl::string_view value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

Verdict Expected(const WithdrawRequest& request, const std::vector<absl::string_view>& tokens,
                 bool token_required) {
  Verdict verdict;
  if (token_required && (tokens.empty() || (tokens.size() == 1 && tokens[0].empty()))) {
    verdict.unauthenticated = true;
    return verdict;
  }
  auto path_id = [&](const char* field, const std::string& value, std::size_t max) {
    if (value.empty() || value.size() > max || value == "." || value == "..") {
      verdict.invalid_fields.insert(field);
    }
  };
  auto header = [&](const char* field, absl::string_view value, std::size_t max) {
    if (value.size() > max || HasControl(value)) verdict.invalid_fields.insert(field);
  };
  path_id("case_id", request.case_id(), 32);
  path_id("message_id", request.message_id(), 64);
  header("language", request.language(), 32);
  header("time_zone", request.time_zone(), 32);
  if (token_required) {
    if (tokens.size() > 1) {
      verdict.invalid_fields.insert("x-auth-token");
    } else {
      header("x-auth-token", tokens[0], 5000);
    }
  }
  return verdict;
}

// Returns whether the request was found valid.
bool CheckValidation(const WithdrawRequest& request, const std::vector<absl::string_view>& tokens,
                     bool token_required) {
  const grpc::Status status = osm::ValidateWithdrawRequest(request, tokens, token_required);
  const Verdict expected = Expected(request, tokens, token_required);
  if (expected.unauthenticated) {
    OSM_FUZZ_CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED,
                   "no token is UNAUTHENTICATED");
  } else if (!expected.invalid_fields.empty()) {
    OSM_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
                   "a broken rule is INVALID_ARGUMENT");
  } else {
    OSM_FUZZ_CHECK(status.ok(), "a request that keeps every rule is OK");
  }
  if (status.ok()) {
    OSM_FUZZ_CHECK(status.error_details().empty(), "OK carries no details");
    return true;
  }

  const google::rpc::BadRequest bad_request = CheckRefusal(status, tokens);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    std::set<std::string> named;
    for (const auto& violation : bad_request.field_violations()) named.insert(violation.field());
    OSM_FUZZ_CHECK(named == expected.invalid_fields,
                   "the BadRequest names exactly the fields that break a rule");
  }
  return false;
}

void CheckPath(const WithdrawRequest& request, bool validated) {
  const std::string path = osm::WithdrawPath(request.case_id(), request.message_id());
  OSM_FUZZ_CHECK(path.find_first_of("?#") == std::string::npos,
                 "the path has no query or fragment");
  const std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  OSM_FUZZ_CHECK(segments.size() == 8, "the path has exactly the template's segments");
  OSM_FUZZ_CHECK(segments[0].empty() && segments[1] == "v2" && segments[2] == "servicerequest" &&
                     segments[3] == "cases" && segments[5] == "instant-messages" &&
                     segments[7] == "withdraw",
                 "the path's fixed segments are the template's");
  OSM_FUZZ_CHECK(CheckedDecode(segments[4]) == request.case_id(),
                 "the case id decodes back from its segment");
  OSM_FUZZ_CHECK(CheckedDecode(segments[6]) == request.message_id(),
                 "the message id decodes back from its segment");
  if (validated) {
    for (absl::string_view segment : segments) {
      OSM_FUZZ_CHECK(segment != "." && segment != "..",
                     "a validated request's path has no dot segment");
    }
  }
}

void CheckHttpRequest(const WithdrawRequest& request, absl::string_view token) {
  // kBaseUrl, as ParseUpstreamUrl() gives it to the adapter.
  const osm::UpstreamUrl upstream{"https", "osm.example.com", ""};
  const osm::HttpRequest http =
      osm::BuildWithdrawHttpRequest(upstream, request, token, absl::InfiniteFuture());
  OSM_FUZZ_CHECK(http.url == absl::StrCat(kBaseUrl, osm::WithdrawPath(request.case_id(),
                                                                      request.message_id())),
                 "the URL is the base URL and the path");
  for (const std::string& line : http.headers) {
    OSM_FUZZ_CHECK(!HasControl(line), "a validated request's header lines have no control bytes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string flags = input.ConsumeRandomLengthString();
  const bool token_required = absl::StrContains(flags, 'r');
  WithdrawRequest request;
  request.set_case_id(input.ConsumeRandomLengthString());
  request.set_message_id(input.ConsumeRandomLengthString());
  request.set_language(input.ConsumeRandomLengthString());
  request.set_time_zone(input.ConsumeRandomLengthString());
  std::vector<std::string> token_values;
  while (input.remaining_bytes() > 0 && token_values.size() < 4) {
    token_values.push_back(input.ConsumeRandomLengthString());
  }
  const std::vector<absl::string_view> tokens(token_values.begin(), token_values.end());

  for (const std::string* value :
       {&request.case_id(), &request.message_id(), &request.language(), &request.time_zone()}) {
    CheckEncoding(*value);
  }
  for (absl::string_view token : tokens) CheckEncoding(token);

  const bool validated = CheckValidation(request, tokens, token_required);
  CheckPath(request, validated);
  if (validated) {
    CheckHttpRequest(request, token_required ? tokens[0] : absl::string_view());
  }
  return 0;
}
