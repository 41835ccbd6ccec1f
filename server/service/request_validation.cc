#include "server/service/request_validation.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "server/osm/adapter_errors.h"

namespace osm {
namespace {

using google::rpc::BadRequest;

void AddViolation(BadRequest& bad_request, absl::string_view field, std::string description) {
  BadRequest::FieldViolation* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::move(description));
}

// A required id that becomes one path segment.
void CheckPathId(BadRequest& bad_request, absl::string_view field, absl::string_view value,
                 std::size_t max_bytes) {
  if (value.empty()) {
    AddViolation(bad_request, field, "is required");
  } else if (value.size() > max_bytes) {
    AddViolation(bad_request, field,
                 absl::StrCat("must be at most ", max_bytes, " bytes, got ", value.size()));
  } else if (value == "." || value == "..") {
    AddViolation(bad_request, field, "must not be \".\" or \"..\"");
  }
}

// An optional value that becomes a header.
void CheckHeaderValue(BadRequest& bad_request, absl::string_view field, absl::string_view value,
                      std::size_t max_bytes) {
  if (value.size() > max_bytes) {
    AddViolation(bad_request, field,
                 absl::StrCat("must be at most ", max_bytes, " bytes, got ", value.size()));
  } else if (HasControlCharacter(value)) {
    AddViolation(bad_request, field, "must not contain control characters");
  }
}

}  // namespace

bool HasControlCharacter(absl::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<std::uint8_t>(c);
    if (byte < 0x20 || byte == 0x7F) return true;
  }
  return false;
}

grpc::Status ValidateWithdrawRequest(const huaweicloud::osm::v2::WithdrawRequest& request,
                                     const std::vector<absl::string_view>& tokens,
                                     bool token_required) {
  if (token_required && (tokens.empty() || (tokens.size() == 1 && tokens[0].empty()))) {
    return AdapterError(AdapterReason::kMissingAuthToken,
                        "no IAM token: send it in the x-auth-token metadata");
  }

  BadRequest bad_request;
  CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseIdBytes);
  CheckPathId(bad_request, "message_id", request.message_id(), kMaxMessageIdBytes);
  CheckHeaderValue(bad_request, "language", request.language(), kMaxLanguageBytes);
  CheckHeaderValue(bad_request, "time_zone", request.time_zone(), kMaxTimeZoneBytes);
  if (token_required) {
    if (tokens.size() > 1) {
      AddViolation(bad_request, kAuthTokenMetadataKey, "must be sent once");
    } else {
      CheckHeaderValue(bad_request, kAuthTokenMetadataKey, tokens[0], kMaxTokenBytes);
    }
  }
  if (bad_request.field_violations_size() == 0) return grpc::Status::OK;

  std::string message = "invalid request: ";
  for (int i = 0; i < bad_request.field_violations_size(); ++i) {
    const BadRequest::FieldViolation& violation = bad_request.field_violations(i);
    absl::StrAppend(&message, i == 0 ? "" : "; ", violation.field(), " ", violation.description());
  }
  return AdapterError(AdapterReason::kInvalidRequest, message, {}, {&bad_request});
}

}  // namespace osm
