#ifndef OSM_SERVER_OSM_RICH_STATUS_H_
#define OSM_SERVER_OSM_RICH_STATUS_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"

namespace osm {

// ErrorInfo domains: who decided the error.
inline constexpr absl::string_view kUpstreamDomain = "osm.myhuaweicloud.com";
inline constexpr absl::string_view kAdapterDomain = "osm-grpc-adapter";

// The longest status message the adapter sends (it rides in a header).
inline constexpr std::size_t kMaxStatusMessageBytes = 1024;

// Builds a non-OK grpc::Status carrying a serialized google.rpc.Status whose
// details are `error_info` followed by `more_details` (null entries skipped).
grpc::Status MakeRichStatus(
    grpc::StatusCode code, absl::string_view message, const google::rpc::ErrorInfo& error_info,
    std::initializer_list<const google::protobuf::Message*> more_details = {});

// A google.rpc.RetryInfo asking the caller to wait `delay`.
google::rpc::RetryInfo RetryInfoFor(absl::Duration delay);

// The reason of the ErrorInfo that `status` carries, or "".
std::string ErrorInfoReason(const grpc::Status& status);

// Makes untrusted text safe to put in a status message or a log: control
// characters (C0, DEL and C1) become spaces, invalid UTF-8 becomes U+FFFD, and the result is
// cut at a character boundary to at most `max_bytes` bytes ("..." marks a cut).
std::string SanitizeText(absl::string_view text, std::size_t max_bytes);

}  // namespace osm

#endif  // OSM_SERVER_OSM_RICH_STATUS_H_
