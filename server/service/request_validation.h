#ifndef OSM_SERVER_SERVICE_REQUEST_VALIDATION_H_
#define OSM_SERVER_SERVICE_REQUEST_VALIDATION_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"

namespace osm {

// Limits from OSM's API reference.
inline constexpr std::size_t kMaxCaseIdBytes = 32;
inline constexpr std::size_t kMaxMessageIdBytes = 64;
inline constexpr std::size_t kMaxTokenBytes = 5000;
inline constexpr std::size_t kMaxLanguageBytes = 32;
inline constexpr std::size_t kMaxTimeZoneBytes = 32;
// The ShowCaseDetail page of 2025-11-28 allows longer case ids than the
// message operations' pages.
inline constexpr std::size_t kMaxCaseDetailIdBytes = 64;
inline constexpr std::size_t kMaxGroupIdBytes = 64;
inline constexpr std::size_t kMaxContentCharacters = 10000;
inline constexpr int kMaxAccessoryIds = 10;
inline constexpr std::size_t kMaxAccessoryIdBytes = 32;
inline constexpr int kMaxOffset = 65535;
inline constexpr int kMaxPageLimit = 100;
inline constexpr std::size_t kMaxCreateTimeBytes = 100;
inline constexpr int kMaxCaseIds = 100;
inline constexpr std::size_t kMaxMarkerBytes = 64;
// The longest interval between a watch's polls a caller may ask for.
inline constexpr absl::Duration kMaxWatchInterval = absl::Hours(1);

// The gRPC metadata key that carries the caller's IAM token.
inline constexpr absl::string_view kAuthTokenMetadataKey = "x-auth-token";

// True if `value` has a byte below 0x20 or 0x7F: never in a header value.
bool HasControlCharacter(absl::string_view value);

// Checks a Withdraw call before anything is sent upstream. `tokens` are the
// values of every `x-auth-token` metadata entry the caller sent.
//
// Returns OK, UNAUTHENTICATED when a token is required and none was sent,
// or INVALID_ARGUMENT with a google.rpc.BadRequest naming every violation.
// Never echoes a token.
grpc::Status ValidateWithdrawRequest(const huaweicloud::osm::v2::WithdrawRequest& request,
                                     const std::vector<absl::string_view>& tokens,
                                     bool token_required);

// The same checks for the other operations, by the limits that
// message_service.proto states for each field. A list element is named with
// its index ("case_ids[2]").
grpc::Status ValidateRequest(const huaweicloud::osm::v2::SendMessageRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::ListMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::ListMoreMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::PollNewMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::CountUnreadMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::MarkMessagesReadRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::ListCaseMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);
grpc::Status ValidateRequest(const huaweicloud::osm::v2::WatchNewMessagesRequest& request,
                             const std::vector<absl::string_view>& tokens, bool token_required);

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_REQUEST_VALIDATION_H_
