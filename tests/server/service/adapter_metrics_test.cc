#include "server/service/adapter_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/observability/metrics.h"

namespace osm {
namespace {

using ::testing::HasSubstr;

TEST(AdapterMetricsTest, UpstreamLabelsAreBounded) {
  MetricsRegistry registry;
  AdapterMetrics metrics(&registry);
  metrics.UpstreamAnswered(200, "", absl::Milliseconds(1));
  metrics.UpstreamAnswered(200, "OSM.01010015", absl::Milliseconds(1));
  metrics.UpstreamAnswered(200, "ATTACKER.CONTROLLED.1", absl::Milliseconds(1));
  metrics.UpstreamAnswered(200, "ATTACKER.CONTROLLED.2", absl::Milliseconds(1));
  metrics.UpstreamAnswered(9999, "", absl::Milliseconds(1));
  metrics.UpstreamFailed("UPSTREAM_TIMEOUT", absl::Seconds(1));
  metrics.CallStarted();
  metrics.CallFinished(grpc::StatusCode::NOT_FOUND, absl::Milliseconds(2));
  const std::string text = registry.Render();
  EXPECT_THAT(
      text,
      HasSubstr("osm_adapter_upstream_requests_total{http_status=\"200\",error_code=\"\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("osm_adapter_upstream_requests_total{http_status=\"200\","
                              "error_code=\"OSM.01010015\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("osm_adapter_upstream_requests_total{http_status=\"200\","
                              "error_code=\"other\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr("osm_adapter_upstream_requests_total{http_status=\"0\",error_code=\"\"} 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("ATTACKER")));
  EXPECT_THAT(text,
              HasSubstr("osm_adapter_upstream_failures_total{reason=\"UPSTREAM_TIMEOUT\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("osm_adapter_calls_total{method=\"Withdraw\",code=\"NOT_FOUND\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("osm_adapter_calls_in_flight 0\n"));
  EXPECT_THAT(text, HasSubstr("osm_adapter_upstream_duration_seconds_count 6\n"));
}

}  // namespace
}  // namespace osm
