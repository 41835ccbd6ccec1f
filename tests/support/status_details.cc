#include "tests/support/status_details.h"

namespace osm::testing {

DecodedDetails DecodeDetails(const grpc::Status& status) {
  DecodedDetails decoded;
  if (status.error_details().empty() || !decoded.status.ParseFromString(status.error_details())) {
    return decoded;
  }
  decoded.present = true;
  for (const google::protobuf::Any& any : decoded.status.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      any.UnpackTo(&decoded.error_infos.emplace_back());
    } else if (any.Is<google::rpc::BadRequest>()) {
      any.UnpackTo(&decoded.bad_requests.emplace_back());
    } else if (any.Is<google::rpc::RetryInfo>()) {
      any.UnpackTo(&decoded.retry_infos.emplace_back());
    } else if (any.Is<google::rpc::RequestInfo>()) {
      any.UnpackTo(&decoded.request_infos.emplace_back());
    } else if (any.Is<huaweicloud::osm::v2::WithdrawResponse>()) {
      any.UnpackTo(&decoded.withdraw_responses.emplace_back());
    } else if (any.Is<huaweicloud::osm::v2::OsmAnswer>()) {
      any.UnpackTo(&decoded.osm_answers.emplace_back());
    } else {
      decoded.other_type_urls.push_back(any.type_url());
    }
  }
  return decoded;
}

}  // namespace osm::testing
