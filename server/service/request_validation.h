#ifndef OSM_SERVER_SERVICE_REQUEST_VALIDATION_H_
#define OSM_SERVER_SERVICE_REQUEST_VALIDATION_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"
#include "huaweicloud/osm/v2/message_service.pb.h"

namespace osm {

// Limits from OSM's API reference.
inline constexpr std::size_t kMaxCaseIdBytes = 32;
inline constexpr std::size_t kMaxMessageIdBytes = 64;
inline constexpr std::size_t kMaxTokenBytes = 5000;
inline constexpr std::size_t kMaxLanguageBytes = 32;
inline constexpr std::size_t kMaxTimeZoneBytes = 32;

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

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_REQUEST_VALIDATION_H_
