#ifndef OSM_SERVER_OBSERVABILITY_METRICS_H_
#define OSM_SERVER_OBSERVABILITY_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/base/mutex.h"

namespace osm {

// A small Prometheus registry (Debian 12 packages no Prometheus C++ client).
// Updating a metric is one relaxed atomic operation, with no lock; children
// of a labelled family are created under the family's lock, once, and the
// hot path keeps the pointer.

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Add(std::int64_t by) { value_.fetch_add(by, std::memory_order_relaxed); }
  void Set(std::int64_t value) { value_.store(value, std::memory_order_relaxed); }
  std::int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Observations in seconds, counted into fixed buckets.
class Histogram {
 public:
  // `bounds`: the upper bounds of the buckets, ascending (+Inf is implied).
  explicit Histogram(std::vector<double> bounds);

  void Observe(double seconds);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot Take() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> sum_nanos_{0};
};

// Bucket bounds for request latencies: 0.5 ms to 30 s.
std::vector<double> LatencyBuckets();

class MetricsRegistry {
 public:
  // Families. Register at start-up; names follow Prometheus conventions.
  // The returned pointers live as long as the registry.
  Counter* AddCounter(absl::string_view name, absl::string_view help, Labels labels = {});
  Gauge* AddGauge(absl::string_view name, absl::string_view help, Labels labels = {});
  Histogram* AddHistogram(absl::string_view name, absl::string_view help,
                          std::vector<double> bounds, Labels labels = {});
  // A value computed when scraped (process metrics); `counter` picks the
  // exposed type.
  void AddCallback(absl::string_view name, absl::string_view help, bool counter,
                   std::function<double()> value);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram, kCallbackGauge, kCallbackCounter };
  struct Child {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string help;
    Type type;
    std::vector<std::unique_ptr<Child>> children;
    std::function<double()> callback;
  };
  Family& FamilyFor(absl::string_view name, absl::string_view help, Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

// "1.5" style formatting as Prometheus expects ("+Inf", no exponent for
// ordinary values).
std::string FormatMetricValue(double value);

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_METRICS_H_
