#ifndef OSM_CLIENT_WITHDRAW_JSON_H_
#define OSM_CLIENT_WITHDRAW_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "huaweicloud/osm/v2/message_service.pb.h"

namespace osm::client {

// The outcome of a Withdraw call as one line of JSON, for scripts.
//
// OK:
//   {"status":"OK","code":0,"response":{"error_code":"","error_msg":"",
//    "http_status":200,"request_id":"req-1"}}
// Not OK: "status", "code" and "message", then what WithdrawErrorDetails
// decodes, each key only when it has a value: "reason", "domain",
// "upstream_error_code", "upstream_http_status", "request_id",
// "retry_delay" (e.g. "1.500s"), "field_violations" ([{"field",
// "description"}]), and "details", every google.rpc.Status detail in
// protobuf's JSON form (with "@type").
std::string WithdrawResultToJson(
    const absl::StatusOr<huaweicloud::osm::v2::WithdrawResponse>& result);

// The two halves of WithdrawResultToJson, for the answers of every
// operation of MessageService (MessageClient) and the batches of a watch.
//
// An answer: {"status":"OK","code":0,"response":RESPONSE}, RESPONSE in
// protobuf's JSON form with the proto field names and every field.
std::string ResponseToJson(const google::protobuf::Message& response);
// A status that is not OK, as WithdrawResultToJson writes it; the OsmAnswer
// detail of the other operations gives the "upstream_*" keys too.
std::string ErrorStatusToJson(const absl::Status& status);

}  // namespace osm::client

#endif  // OSM_CLIENT_WITHDRAW_JSON_H_
