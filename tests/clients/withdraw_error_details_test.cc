// WithdrawErrorDetails and ToAbslStatus: the decoding of the error model,
// on statuses built here detail by detail.

#include "osm/client/withdraw_error_details.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace osm::client {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

google::rpc::ErrorInfo MakeErrorInfo(const std::string& reason, const std::string& domain) {
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain(domain);
  return info;
}

// A failed call as the adapter sends it, then as WithdrawClient returns it.
absl::Status FailedCall(grpc::StatusCode code, const std::string& message,
                        const google::rpc::Status& details) {
  return ToAbslStatus(grpc::Status(code, message, details.SerializeAsString()));
}

TEST(ToAbslStatusTest, OkIsOk) { EXPECT_TRUE(ToAbslStatus(grpc::Status::OK).ok()); }

TEST(ToAbslStatusTest, KeepsCodeAndMessageAndNoPayloadWithoutDetails) {
  const absl::Status status =
      ToAbslStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "Deadline Exceeded");
  EXPECT_FALSE(status.GetPayload(kRpcStatusPayloadUrl).has_value());
}

TEST(ToAbslStatusTest, EveryGrpcCodeMapsToTheAbslCodeOfTheSameName) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status =
        ToAbslStatus(grpc::Status(static_cast<grpc::StatusCode>(code), "m"));
    EXPECT_EQ(static_cast<int>(status.code()), code);
  }
  EXPECT_EQ(ToAbslStatus(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "")).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(ToAbslStatusTest, CarriesTheDetailsBytesAsThePayload) {
  google::rpc::Status details;
  details.set_code(5);
  details.set_message("gone");
  const std::string bytes = details.SerializeAsString();
  const absl::Status status = ToAbslStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone", bytes));
  ASSERT_TRUE(status.GetPayload(kRpcStatusPayloadUrl).has_value());
  EXPECT_EQ(std::string(*status.GetPayload(kRpcStatusPayloadUrl)), bytes);
}

TEST(WithdrawErrorDetailsTest, DecodesEveryDetailTheAdapterSends) {
  google::rpc::Status rpc;
  rpc.set_code(8);
  rpc.set_message("throttled");
  google::rpc::ErrorInfo info = MakeErrorInfo("THROTTLED", "osm.myhuaweicloud.com");
  (*info.mutable_metadata())["errorCode"] = "APIGW.0308";
  (*info.mutable_metadata())["httpStatus"] = "429";
  (*info.mutable_metadata())["requestId"] = "req-meta";
  rpc.add_details()->PackFrom(info);
  google::rpc::RequestInfo request_info;
  request_info.set_request_id("req-7");
  rpc.add_details()->PackFrom(request_info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  retry.mutable_retry_delay()->set_nanos(500000000);
  rpc.add_details()->PackFrom(retry);
  huaweicloud::osm::v2::WithdrawResponse response;
  response.set_error_code("APIGW.0308");
  response.set_error_msg("The request is throttled.");
  response.set_http_status(429);
  response.set_request_id("req-7");
  rpc.add_details()->PackFrom(response);

  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(
      FailedCall(grpc::StatusCode::RESOURCE_EXHAUSTED, "throttled", rpc));

  EXPECT_TRUE(details.has_details());
  EXPECT_EQ(details.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(details.reason(), "THROTTLED");
  EXPECT_EQ(details.domain(), "osm.myhuaweicloud.com");
  EXPECT_EQ(details.metadata("httpStatus"), "429");
  EXPECT_EQ(details.metadata("nope"), std::nullopt);
  EXPECT_EQ(details.upstream_error_code(), "APIGW.0308");
  EXPECT_EQ(details.upstream_error_message(), "The request is throttled.");
  EXPECT_THAT(details.upstream_http_status(), Optional(429));
  EXPECT_EQ(details.request_id(), "req-7");  // RequestInfo wins over the metadata
  EXPECT_THAT(details.retry_delay(), Optional(absl::Milliseconds(1500)));
  EXPECT_THAT(details.field_violations(), IsEmpty());
  ASSERT_TRUE(details.upstream_response().has_value());
  EXPECT_EQ(details.upstream_response()->http_status(), 429);
  EXPECT_EQ(details.rpc_status().details_size(), 4);
}

TEST(WithdrawErrorDetailsTest, DecodesFieldViolations) {
  google::rpc::Status rpc;
  rpc.add_details()->PackFrom(MakeErrorInfo("INVALID_REQUEST", "osm-grpc-adapter"));
  google::rpc::BadRequest bad_request;
  auto* first = bad_request.add_field_violations();
  first->set_field("case_id");
  first->set_description("must be at most 32 bytes, got 40");
  auto* second = bad_request.add_field_violations();
  second->set_field("message_id");
  second->set_description("is required");
  rpc.add_details()->PackFrom(bad_request);

  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(
      FailedCall(grpc::StatusCode::INVALID_ARGUMENT, "invalid request", rpc));

  EXPECT_EQ(details.reason(), "INVALID_REQUEST");
  EXPECT_EQ(details.domain(), "osm-grpc-adapter");
  EXPECT_THAT(details.field_violations(),
              ElementsAre(FieldsAre("case_id", "must be at most 32 bytes, got 40"),
                          FieldsAre("message_id", "is required")));
  // OSM never saw the request.
  EXPECT_EQ(details.upstream_error_code(), "");
  EXPECT_EQ(details.upstream_error_message(), "");
  EXPECT_EQ(details.upstream_http_status(), std::nullopt);
  EXPECT_EQ(details.request_id(), "");
  EXPECT_EQ(details.retry_delay(), std::nullopt);
  EXPECT_EQ(details.upstream_response(), std::nullopt);
}

TEST(WithdrawErrorDetailsTest, FallsBackToTheErrorInfoMetadata) {
  google::rpc::Status rpc;
  google::rpc::ErrorInfo info = MakeErrorInfo("UPSTREAM_HTTP_ERROR", "osm.myhuaweicloud.com");
  (*info.mutable_metadata())["errorCode"] = "OSM.9999";
  (*info.mutable_metadata())["httpStatus"] = "502";
  (*info.mutable_metadata())["requestId"] = "req-meta";
  rpc.add_details()->PackFrom(info);

  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(
      FailedCall(grpc::StatusCode::UNAVAILABLE, "bad gateway", rpc));

  EXPECT_EQ(details.upstream_error_code(), "OSM.9999");
  EXPECT_THAT(details.upstream_http_status(), Optional(502));
  EXPECT_EQ(details.request_id(), "req-meta");
}

TEST(WithdrawErrorDetailsTest, IgnoresDetailsOfUnknownTypes) {
  google::rpc::Status rpc;
  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/example.Unknown");
  unknown.set_value("\x08\x01");
  *rpc.add_details() = unknown;
  rpc.add_details()->PackFrom(MakeErrorInfo("CASE_NOT_FOUND", "osm.myhuaweicloud.com"));

  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(
      FailedCall(grpc::StatusCode::NOT_FOUND, "no case", rpc));

  EXPECT_TRUE(details.has_details());
  EXPECT_EQ(details.reason(), "CASE_NOT_FOUND");
}

TEST(WithdrawErrorDetailsTest, AStatusWithoutDetailsGivesEmptyDetails) {
  const WithdrawErrorDetails details =
      WithdrawErrorDetails::FromStatus(absl::DeadlineExceededError("Deadline Exceeded"));
  EXPECT_FALSE(details.has_details());
  EXPECT_EQ(details.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(details.reason(), "");
  EXPECT_EQ(details.domain(), "");
  EXPECT_EQ(details.upstream_error_code(), "");
  EXPECT_EQ(details.request_id(), "");
  EXPECT_EQ(details.rpc_status().details_size(), 0);
}

TEST(WithdrawErrorDetailsTest, AnUnreadablePayloadGivesEmptyDetails) {
  absl::Status status = absl::InternalError("broken");
  status.SetPayload(kRpcStatusPayloadUrl, absl::Cord("\xff\xff\xff"));
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(status);
  EXPECT_FALSE(details.has_details());
  EXPECT_EQ(details.code(), absl::StatusCode::kInternal);
}

TEST(WithdrawErrorDetailsTest, OkHasNoDetails) {
  const WithdrawErrorDetails details = WithdrawErrorDetails::FromStatus(absl::OkStatus());
  EXPECT_FALSE(details.has_details());
  EXPECT_EQ(details.code(), absl::StatusCode::kOk);
}

}  // namespace
}  // namespace osm::client
