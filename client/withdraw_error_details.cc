#include "osm/client/withdraw_error_details.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace osm::client {

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC's and absl's canonical codes have the same numbers.
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    result.SetPayload(kRpcStatusPayloadUrl, absl::Cord(status.error_details()));
  }
  return result;
}

WithdrawErrorDetails WithdrawErrorDetails::FromStatus(const absl::Status& status) {
  WithdrawErrorDetails details;
  details.code_ = status.code();
  const auto payload = status.GetPayload(kRpcStatusPayloadUrl);
  if (!payload.has_value() || !details.rpc_status_.ParseFromString(std::string(*payload))) {
    details.rpc_status_.Clear();
    return details;
  }
  details.has_details_ = true;

  bool have_error_info = false;
  std::string request_info_id;
  for (const google::protobuf::Any& any : details.rpc_status_.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      // The adapter sends exactly one; should another ever come, the first
      // one decides.
      if (!have_error_info) have_error_info = any.UnpackTo(&details.error_info_);
    } else if (google::rpc::RequestInfo info;
               any.Is<google::rpc::RequestInfo>() && any.UnpackTo(&info)) {
      request_info_id = info.request_id();
    } else if (google::rpc::RetryInfo retry;
               any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&retry)) {
      details.retry_delay_ = absl::Seconds(retry.retry_delay().seconds()) +
                             absl::Nanoseconds(retry.retry_delay().nanos());
    } else if (google::rpc::BadRequest bad_request;
               any.Is<google::rpc::BadRequest>() && any.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        details.field_violations_.push_back({violation.field(), violation.description()});
      }
    } else if (huaweicloud::osm::v2::WithdrawResponse response;
               any.Is<huaweicloud::osm::v2::WithdrawResponse>() && any.UnpackTo(&response)) {
      details.upstream_response_ = std::move(response);
    } else if (any.Is<huaweicloud::osm::v2::OsmAnswer>()) {
      // The other operations' form of OSM's answer: the same fields, with
      // the same numbers, as WithdrawResponse, so its bytes parse as one.
      if (huaweicloud::osm::v2::WithdrawResponse answer; answer.ParseFromString(any.value())) {
        details.upstream_response_ = std::move(answer);
      }
    }
  }
  if (!have_error_info) details.error_info_.Clear();

  // Each value from the most specific detail that carries it.
  const auto& response = details.upstream_response_;
  if (response.has_value() && !response->error_code().empty()) {
    details.upstream_error_code_ = response->error_code();
  } else if (auto code = details.metadata("errorCode")) {
    details.upstream_error_code_ = *std::move(code);
  }
  if (response.has_value() && response->http_status() > 0) {
    details.upstream_http_status_ = response->http_status();
  } else if (auto http = details.metadata("httpStatus")) {
    int value = 0;
    if (absl::SimpleAtoi(*http, &value) && value > 0) details.upstream_http_status_ = value;
  }
  if (!request_info_id.empty()) {
    details.request_id_ = std::move(request_info_id);
  } else if (auto id = details.metadata("requestId")) {
    details.request_id_ = *std::move(id);
  } else if (response.has_value()) {
    details.request_id_ = response->request_id();
  }
  return details;
}

std::optional<std::string> WithdrawErrorDetails::metadata(absl::string_view key) const {
  const auto& map = error_info_.metadata();
  const auto it = map.find(std::string(key));
  if (it == map.end()) return std::nullopt;
  return it->second;
}

const std::string& WithdrawErrorDetails::upstream_error_message() const {
  static const std::string* const kEmpty = new std::string;
  return upstream_response_.has_value() ? upstream_response_->error_msg() : *kEmpty;
}

}  // namespace osm::client
