#ifndef OSM_CLIENT_WITHDRAW_ERROR_DETAILS_H_
#define OSM_CLIENT_WITHDRAW_ERROR_DETAILS_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "huaweicloud/osm/v2/message_service.pb.h"

namespace osm::client {

// The absl::Status payload key under which the serialized google.rpc.Status
// of a failed call is kept.
inline constexpr absl::string_view kRpcStatusPayloadUrl = "type.googleapis.com/google.rpc.Status";

// The same code and message as `status`, with its details (the
// grpc-status-details-bin trailer) as the kRpcStatusPayloadUrl payload.
absl::Status ToAbslStatus(const grpc::Status& status);

// The error model of the adapter (see message_service.proto), decoded from a
// status that WithdrawClient or MessageClient (message_client.h) returned:
// the same for every operation of MessageService.
//
//   absl::StatusOr<WithdrawResponse> result = client.Withdraw(request, deadline);
//   if (!result.ok()) {
//     auto details = WithdrawErrorDetails::FromStatus(result.status());
//     if (details.upstream_error_code() == "OSM.01010015") ...  // no such case
//   }
class WithdrawErrorDetails {
 public:
  struct FieldViolation {
    std::string field;
    std::string description;
  };

  // Decodes the kRpcStatusPayloadUrl payload of `status`. A status without
  // one (OK, or an error that arose in the client, such as a deadline that
  // passed before the adapter answered) gives empty details: has_details()
  // is false and every accessor returns its empty value.
  static WithdrawErrorDetails FromStatus(const absl::Status& status);

  // Whether the adapter attached a google.rpc.Status.
  bool has_details() const { return has_details_; }
  absl::StatusCode code() const { return code_; }

  // ErrorInfo: `reason` in UPPER_SNAKE_CASE (e.g. "CASE_NOT_FOUND"), and
  // `domain`: "osm.myhuaweicloud.com" when OSM or its gateway decided,
  // "osm-grpc-adapter" when the adapter did.
  const std::string& reason() const { return error_info_.reason(); }
  const std::string& domain() const { return error_info_.domain(); }
  // An ErrorInfo metadata value ("errorCode", "httpStatus", "requestId").
  std::optional<std::string> metadata(absl::string_view key) const;

  // OSM's error code (e.g. "OSM.01010015") and message; empty when OSM did
  // not answer or sent none.
  const std::string& upstream_error_code() const { return upstream_error_code_; }
  const std::string& upstream_error_message() const;
  // The HTTP status of OSM's answer, when OSM answered.
  std::optional<int> upstream_http_status() const { return upstream_http_status_; }
  // OSM's request id: quote it to Huawei Cloud support. Empty when none.
  const std::string& request_id() const { return request_id_; }
  // How long OSM asked to wait before trying again (RetryInfo), if it did.
  std::optional<absl::Duration> retry_delay() const { return retry_delay_; }
  // Every invalid request field (BadRequest), for INVALID_ARGUMENT raised by
  // the adapter's validation.
  const std::vector<FieldViolation>& field_violations() const { return field_violations_; }
  // OSM's whole answer, when OSM answered: Withdraw's WithdrawResponse
  // detail, or the other operations' OsmAnswer detail read as one (the two
  // have the same fields).
  const std::optional<huaweicloud::osm::v2::WithdrawResponse>& upstream_response() const {
    return upstream_response_;
  }
  // Everything, as the adapter sent it.
  const google::rpc::Status& rpc_status() const { return rpc_status_; }

 private:
  bool has_details_ = false;
  absl::StatusCode code_ = absl::StatusCode::kOk;
  google::rpc::Status rpc_status_;
  google::rpc::ErrorInfo error_info_;
  std::optional<huaweicloud::osm::v2::WithdrawResponse> upstream_response_;
  std::string upstream_error_code_;
  std::optional<int> upstream_http_status_;
  std::string request_id_;
  std::optional<absl::Duration> retry_delay_;
  std::vector<FieldViolation> field_violations_;
};

}  // namespace osm::client

#endif  // OSM_CLIENT_WITHDRAW_ERROR_DETAILS_H_
