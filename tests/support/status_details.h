#ifndef OSM_TESTS_SUPPORT_STATUS_DETAILS_H_
#define OSM_TESTS_SUPPORT_STATUS_DETAILS_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "huaweicloud/osm/v2/message_service.pb.h"

namespace osm::testing {

// The google.rpc.Status a grpc::Status carries, unpacked by type.
struct DecodedDetails {
  bool present = false;  // grpc-status-details-bin was there and parsed
  google::rpc::Status status;
  std::vector<google::rpc::ErrorInfo> error_infos;
  std::vector<google::rpc::BadRequest> bad_requests;
  std::vector<google::rpc::RetryInfo> retry_infos;
  std::vector<google::rpc::RequestInfo> request_infos;
  std::vector<huaweicloud::osm::v2::WithdrawResponse> withdraw_responses;
  std::vector<huaweicloud::osm::v2::OsmAnswer> osm_answers;
  std::vector<std::string> other_type_urls;
};

DecodedDetails DecodeDetails(const grpc::Status& status);

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_STATUS_DETAILS_H_
