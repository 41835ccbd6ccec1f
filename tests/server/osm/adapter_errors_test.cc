#include "server/osm/adapter_errors.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

TEST(AdapterErrorsTest, TheTableHasEveryReasonOnceInEnumOrder) {
  std::set<std::string> names;
  int index = 0;
  for (const AdapterReasonInfo& info : AdapterReasons()) {
    EXPECT_EQ(static_cast<int>(info.reason), index++);
    EXPECT_EQ(&Describe(info.reason), &info);
    EXPECT_TRUE(names.insert(std::string(info.name)).second) << info.name;
    EXPECT_NE(info.code, grpc::StatusCode::OK) << info.name;
  }
  EXPECT_EQ(names.size(), 14u);
}

TEST(AdapterErrorsTest, AdapterErrorBuildsTheStatusAndItsErrorInfo) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(2);
  const grpc::Status status = AdapterError(AdapterReason::kTooManyCallsInFlight, "too many",
                                           {{"maxInFlight", "7"}}, {&retry});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "too many");
  const testing::DecodedDetails details = testing::DecodeDetails(status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "TOO_MANY_CALLS_IN_FLIGHT");
  EXPECT_EQ(details.error_infos[0].domain(), "osm-grpc-adapter");
  EXPECT_EQ(details.error_infos[0].metadata().at("maxInFlight"), "7");
  ASSERT_EQ(details.retry_infos.size(), 1u);
  EXPECT_EQ(details.retry_infos[0].retry_delay().seconds(), 2);
}

// The contract documents every reason the adapter can send, with its code.
TEST(AdapterErrorsTest, EveryReasonIsDocumentedInTheContract) {
  std::ifstream file(OSM_SOURCE_DIR "/proto/huaweicloud/osm/v2/message_service.proto");
  std::stringstream text;
  text << file.rdbuf();
  ASSERT_FALSE(text.str().empty());
  for (const AdapterReasonInfo& info : AdapterReasons()) {
    EXPECT_NE(text.str().find(std::string(info.name)), std::string::npos)
        << info.name << " is not in message_service.proto's error model";
  }
}

}  // namespace
}  // namespace osm
