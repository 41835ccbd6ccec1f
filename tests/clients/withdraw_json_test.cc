// WithdrawResultToJson: the exact JSON that `osm-withdraw --json` prints.

#include "osm/client/withdraw_json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "osm/client/withdraw_error_details.h"

namespace osm::client {
namespace {

using huaweicloud::osm::v2::WithdrawResponse;

bool IsJson(const std::string& text) {
  google::protobuf::Value value;
  return google::protobuf::util::JsonStringToMessage(text, &value).ok();
}

TEST(WithdrawResultToJsonTest, Ok) {
  WithdrawResponse response;
  response.set_http_status(200);
  response.set_request_id("req-1");
  EXPECT_EQ(WithdrawResultToJson(response),
            R"({"status":"OK","code":0,"response":{"error_code":"","error_msg":"",)"
            R"("http_status":200,"request_id":"req-1"}})");
}

TEST(WithdrawResultToJsonTest, ErrorWithEveryDecodedField) {
  google::rpc::Status rpc;
  google::rpc::ErrorInfo info;
  info.set_reason("THROTTLED");
  info.set_domain("osm.myhuaweicloud.com");
  (*info.mutable_metadata())["errorCode"] = "APIGW.0308";
  rpc.add_details()->PackFrom(info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(2);
  rpc.add_details()->PackFrom(retry);
  WithdrawResponse response;
  response.set_error_code("APIGW.0308");
  response.set_http_status(429);
  response.set_request_id("req-9");
  rpc.add_details()->PackFrom(response);
  const absl::Status status = ToAbslStatus(grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED, "Too \"many\"\nrequests", rpc.SerializeAsString()));

  const std::string json = WithdrawResultToJson(status);

  EXPECT_EQ(json,
            R"({"status":"RESOURCE_EXHAUSTED","code":8,"message":"Too \"many\"\nrequests",)"
            R"("reason":"THROTTLED","domain":"osm.myhuaweicloud.com",)"
            R"("upstream_error_code":"APIGW.0308","upstream_http_status":429,)"
            R"("request_id":"req-9","retry_delay":"2s","details":[)"
            R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"THROTTLED",)"
            R"("domain":"osm.myhuaweicloud.com","metadata":{"errorCode":"APIGW.0308"}},)"
            R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retry_delay":"2s"},)"
            R"({"@type":"type.googleapis.com/huaweicloud.osm.v2.WithdrawResponse",)"
            R"("error_code":"APIGW.0308","error_msg":"","http_status":429,"request_id":"req-9"}]})");
  EXPECT_TRUE(IsJson(json)) << json;
}

TEST(WithdrawResultToJsonTest, FieldViolationsAndControlCharacters) {
  google::rpc::Status rpc;
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field("case_id");
  violation->set_description("bad\x01" "byte");
  rpc.add_details()->PackFrom(bad_request);
  const absl::Status status = ToAbslStatus(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "tab\there", rpc.SerializeAsString()));

  const std::string json = WithdrawResultToJson(status);

  EXPECT_THAT(json, ::testing::StartsWith(
                        R"({"status":"INVALID_ARGUMENT","code":3,"message":"tab\there",)"
                        R"("field_violations":[{"field":"case_id","description":"bad\u0001byte"}],)"
                        R"("details":[{"@type":"type.googleapis.com/google.rpc.BadRequest",)"));
  EXPECT_TRUE(IsJson(json)) << json;
}

TEST(WithdrawResultToJsonTest, ErrorWithoutDetails) {
  EXPECT_EQ(WithdrawResultToJson(absl::DeadlineExceededError("Deadline Exceeded")),
            R"({"status":"DEADLINE_EXCEEDED","code":4,"message":"Deadline Exceeded"})");
}

TEST(WithdrawResultToJsonTest, AnUnknownDetailKeepsItsType) {
  google::rpc::Status rpc;
  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/example.Unknown");
  *rpc.add_details() = unknown;
  const absl::Status status =
      ToAbslStatus(grpc::Status(grpc::StatusCode::INTERNAL, "x", rpc.SerializeAsString()));
  EXPECT_EQ(WithdrawResultToJson(status),
            R"({"status":"INTERNAL","code":13,"message":"x",)"
            R"("details":[{"@type":"type.googleapis.com/example.Unknown"}]})");
}

}  // namespace
}  // namespace osm::client
