#ifndef OSM_SERVER_OSM_MESSAGE_MAPPING_H_
#define OSM_SERVER_OSM_MESSAGE_MAPPING_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/redaction.h"
#include "server/osm/response_mapper.h"
#include "server/upstream/http_types.h"

// OSM's answers to the message group, mapped to the contract's responses:
// the error rules of MapOsmAnswer (response_mapper.h), and for a plain
// success the body, read with protobuf's JSON parser into the shapes of
// osm_message_bodies.proto (unknown fields ignored) and copied into the
// typed response.

namespace osm {

// The largest body each kind of answer may have. A page of ListMessages or
// ListMoreInstantMessages holds at most 100 messages of at most about 12 KiB
// of JSON each (400 characters of content and 256 of replier name, all
// \u-escaped, five attachments); ListNewInstantMessages and ShowCaseDetail
// have no page, and are cut at 16 MiB, which the adapter's gRPC limit on a
// response matches (kMaxResponseMessageBytes).
inline constexpr std::size_t kMaxWriteAnswerBytes = kMaxResponseBodyBytes;
inline constexpr std::size_t kMaxPageAnswerBytes = 4 << 20;
inline constexpr std::size_t kMaxListAnswerBytes = 16 << 20;
inline constexpr std::size_t kMaxResponseMessageBytes = 16 << 20;

// The result of one call of the message group.
template <typename Response>
struct MappedCall {
  grpc::Status status;
  // When `status` is OK.
  Response response;
  // OSM's answer, when it answered (http_status != 0); the metrics and the
  // access log read it.
  huaweicloud::osm::v2::OsmAnswer answer;
  // ErrorInfo.reason; empty when OK.
  std::string reason;
  // From the upstream's Retry-After, when it sent a usable one.
  std::optional<absl::Duration> retry_delay;
};

// One function per operation; pure, as MapWithdrawOutcome.
MappedCall<huaweicloud::osm::v2::SendMessageResponse> MapSendMessageOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets);
MappedCall<huaweicloud::osm::v2::MarkMessagesReadResponse> MapMarkMessagesReadOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets);
// `offset` is the request's: next_offset is computed from it.
MappedCall<huaweicloud::osm::v2::ListMessagesResponse> MapListMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets,
    int offset);
MappedCall<huaweicloud::osm::v2::ListMoreMessagesResponse> MapListMoreMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets);
MappedCall<huaweicloud::osm::v2::PollNewMessagesResponse> MapPollNewMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets);
MappedCall<huaweicloud::osm::v2::CountUnreadMessagesResponse> MapCountUnreadMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets);
MappedCall<huaweicloud::osm::v2::ListCaseMessagesResponse> MapListCaseMessagesOutcome(
    const absl::StatusOr<HttpResponse>& outcome, absl::Time now, const CallSecrets& secrets);

// A create_time as OSM may send it: the text (a number becomes its decimal
// digits) and, when the text has a known form, the time. Known forms are
// those of OSM's Go SDK: "2006-01-02T15:04:05Z", RFC 3339 with an offset and
// optional fractions, "2006-01-02T15:04:05" and "2006-01-02 15:04:05"
// (read as UTC, as the SDKs do), and a count of seconds (10 digits or
// fewer) or milliseconds (13 digits) since 1970. A time is always within
// google.protobuf.Timestamp's range (years 1 to 9999).
struct OsmTime {
  std::string text;
  std::optional<absl::Time> time;
};
OsmTime ParseOsmTime(const google::protobuf::Value& value);

}  // namespace osm

#endif  // OSM_SERVER_OSM_MESSAGE_MAPPING_H_
