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

namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the request messages

// An optional value that becomes a query parameter or a JSON string.
void CheckText(BadRequest& bad_request, absl::string_view field, absl::string_view value,
               std::size_t max_bytes) {
  CheckHeaderValue(bad_request, field, value, max_bytes);
}

void CheckRange(BadRequest& bad_request, absl::string_view field, int value, int min, int max) {
  if (value < min || value > max) {
    AddViolation(bad_request, field,
                 absl::StrCat("must be from ", min, " to ", max, ", got ", value));
  }
}

void CheckSite(BadRequest& bad_request, int site) {
  if (!Site_IsValid(site)) {
    AddViolation(bad_request, "site", absl::StrCat("must be a Site value, got ", site));
  }
}

// language, time_zone and site, which every request has.
template <typename Request>
void CheckHeaders(BadRequest& bad_request, const Request& request) {
  CheckHeaderValue(bad_request, "language", request.language(), kMaxLanguageBytes);
  CheckHeaderValue(bad_request, "time_zone", request.time_zone(), kMaxTimeZoneBytes);
  CheckSite(bad_request, request.site());
}

void CheckCaseIds(BadRequest& bad_request,
                  const google::protobuf::RepeatedPtrField<std::string>& ids) {
  if (ids.empty()) {
    AddViolation(bad_request, "case_ids", "must name at least one case");
  } else if (ids.size() > kMaxCaseIds) {
    AddViolation(bad_request, "case_ids",
                 absl::StrCat("must name at most ", kMaxCaseIds, " cases, got ", ids.size()));
  }
  for (int i = 0; i < ids.size() && i < kMaxCaseIds; ++i) {
    const std::string field = absl::StrCat("case_ids[", i, "]");
    const std::string& id = ids[i];
    if (id.empty()) {
      AddViolation(bad_request, field, "must not be empty");
    } else if (id.size() > kMaxCaseIdBytes) {
      AddViolation(bad_request, field,
                   absl::StrCat("must be at most ", kMaxCaseIdBytes, " bytes, got ", id.size()));
    } else if (HasControlCharacter(id)) {
      AddViolation(bad_request, field, "must not contain control characters");
    } else if (id.find(',') != std::string::npos) {
      AddViolation(bad_request, field, "must not contain \",\" (case ids are sent comma-joined)");
    }
  }
}

std::size_t Utf8Characters(absl::string_view text) {
  std::size_t characters = 0;
  for (char c : text) {
    if ((static_cast<std::uint8_t>(c) & 0xC0) != 0x80) ++characters;
  }
  return characters;
}

// The token rules, then the fields by `check_fields`; INVALID_ARGUMENT
// names every violation.
template <typename CheckFields>
grpc::Status Validate(const std::vector<absl::string_view>& tokens, bool token_required,
                      CheckFields check_fields) {
  if (token_required && (tokens.empty() || (tokens.size() == 1 && tokens[0].empty()))) {
    return AdapterError(AdapterReason::kMissingAuthToken,
                        "no IAM token: send it in the x-auth-token metadata");
  }

  BadRequest bad_request;
  check_fields(bad_request);
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

}  // namespace

grpc::Status ValidateWithdrawRequest(const WithdrawRequest& request,
                                     const std::vector<absl::string_view>& tokens,
                                     bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseIdBytes);
    CheckPathId(bad_request, "message_id", request.message_id(), kMaxMessageIdBytes);
    CheckHeaderValue(bad_request, "language", request.language(), kMaxLanguageBytes);
    CheckHeaderValue(bad_request, "time_zone", request.time_zone(), kMaxTimeZoneBytes);
  });
}

grpc::Status ValidateRequest(const SendMessageRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseIdBytes);
    const std::size_t characters = Utf8Characters(request.content());
    if (characters == 0) {
      AddViolation(bad_request, "content", "is required");
    } else if (characters > kMaxContentCharacters) {
      AddViolation(
          bad_request, "content",
          absl::StrCat("must be at most ", kMaxContentCharacters, " characters, got ", characters));
    }
    if (request.accessory_ids_size() > kMaxAccessoryIds) {
      AddViolation(bad_request, "accessory_ids",
                   absl::StrCat("must have at most ", kMaxAccessoryIds, " ids, got ",
                                request.accessory_ids_size()));
    }
    for (int i = 0; i < request.accessory_ids_size() && i < kMaxAccessoryIds; ++i) {
      const std::string field = absl::StrCat("accessory_ids[", i, "]");
      if (request.accessory_ids(i).empty()) {
        AddViolation(bad_request, field, "must not be empty");
      } else {
        CheckText(bad_request, field, request.accessory_ids(i), kMaxAccessoryIdBytes);
      }
    }
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const ListMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseIdBytes);
    CheckRange(bad_request, "offset", request.offset(), 0, kMaxOffset);
    CheckRange(bad_request, "limit", request.limit(), 0, kMaxPageLimit);
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const ListMoreMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseIdBytes);
    if (request.create_time().empty()) {
      AddViolation(bad_request, "create_time", "is required");
    } else {
      CheckText(bad_request, "create_time", request.create_time(), kMaxCreateTimeBytes);
    }
    CheckRange(bad_request, "type", request.type(), 0, 1);
    CheckRange(bad_request, "limit", request.limit(), 1, kMaxPageLimit);
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const PollNewMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckCaseIds(bad_request, request.case_ids());
    CheckText(bad_request, "last_message_time_id", request.last_message_time_id(), kMaxMarkerBytes);
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const CountUnreadMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckCaseIds(bad_request, request.case_ids());
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const MarkMessagesReadRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseIdBytes);
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const ListCaseMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckPathId(bad_request, "case_id", request.case_id(), kMaxCaseDetailIdBytes);
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

grpc::Status ValidateRequest(const WatchNewMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required) {
  return Validate(tokens, token_required, [&](BadRequest& bad_request) {
    CheckCaseIds(bad_request, request.case_ids());
    CheckText(bad_request, "last_message_time_id", request.last_message_time_id(), kMaxMarkerBytes);
    const auto& interval = request.poll_interval();
    if (interval.seconds() < 0 || interval.nanos() < 0 || interval.nanos() >= 1'000'000'000 ||
        absl::Seconds(interval.seconds()) + absl::Nanoseconds(interval.nanos()) >
            kMaxWatchInterval) {
      AddViolation(bad_request, "poll_interval",
                   absl::StrCat("must be from 0 to ", absl::FormatDuration(kMaxWatchInterval)));
    }
    CheckText(bad_request, "group_id", request.group_id(), kMaxGroupIdBytes);
    CheckHeaders(bad_request, request);
  });
}

}  // namespace osm
