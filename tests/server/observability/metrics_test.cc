#include "server/observability/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace osm {
namespace {

using ::testing::HasSubstr;

TEST(MetricsRegistryTest, RendersTheTextExpositionFormatExactly) {
  MetricsRegistry registry;
  Counter* ok = registry.AddCounter("x_calls_total", "Calls.", {{"code", "OK"}});
  Counter* bad = registry.AddCounter("x_calls_total", "Calls.", {{"code", "NOT_FOUND"}});
  Gauge* in_flight = registry.AddGauge("x_in_flight", "In flight.");
  Histogram* latency = registry.AddHistogram("x_seconds", "Latency.", {0.1, 1}, {{"m", "W"}});
  registry.AddCallback("x_cpu_seconds_total", "CPU.", true, [] { return 1.5; });
  ok->Increment(3);
  bad->Increment();
  in_flight->Add(2);
  in_flight->Add(-1);
  latency->Observe(0.05);
  latency->Observe(0.5);
  latency->Observe(7);

  EXPECT_EQ(registry.Render(),
            "# HELP x_calls_total Calls.\n"
            "# TYPE x_calls_total counter\n"
            "x_calls_total{code=\"OK\"} 3\n"
            "x_calls_total{code=\"NOT_FOUND\"} 1\n"
            "# HELP x_cpu_seconds_total CPU.\n"
            "# TYPE x_cpu_seconds_total counter\n"
            "x_cpu_seconds_total 1.5\n"
            "# HELP x_in_flight In flight.\n"
            "# TYPE x_in_flight gauge\n"
            "x_in_flight 1\n"
            "# HELP x_seconds Latency.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{m=\"W\",le=\"0.1\"} 1\n"
            "x_seconds_bucket{m=\"W\",le=\"1\"} 2\n"
            "x_seconds_bucket{m=\"W\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{m=\"W\"} 7.55\n"
            "x_seconds_count{m=\"W\"} 3\n");
}

TEST(MetricsRegistryTest, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.AddCounter("y_total", "Y.", {{"v", "a\"b\\c\nd"}})->Increment();
  EXPECT_THAT(registry.Render(), HasSubstr("y_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsRegistryTest, HistogramBucketBoundariesAreInclusive) {
  Histogram histogram({0.5, 1});
  histogram.Observe(0.5);
  histogram.Observe(1);
  histogram.Observe(1.0000001);
  const Histogram::Snapshot snapshot = histogram.Take();
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(snapshot.count, 3u);
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  Counter* counter = registry.AddCounter("z_total", "Z.");
  Histogram* histogram = registry.AddHistogram("z_seconds", "Z.", LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        counter->Increment();
        histogram->Observe(0.001);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter->Value(), 400000u);
  EXPECT_EQ(histogram->Take().count, 400000u);
}

TEST(FormatMetricValueTest, Values) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(0.0005), "0.0005");
  EXPECT_EQ(FormatMetricValue(2.5), "2.5");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
}

}  // namespace
}  // namespace osm
