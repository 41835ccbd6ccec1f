#include "server/observability/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace osm {
namespace {

void AppendEscapedLabelValue(std::string& out, absl::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
}

// {a="1",b="2"}, with `extra` (e.g. le="0.5") last; "" when empty.
std::string FormatLabels(const Labels& labels, absl::string_view extra_name = {},
                         absl::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&out, first ? "" : ",", name, "=\"");
    AppendEscapedLabelValue(out, value);
    out.push_back('"');
    first = false;
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, first ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  out.push_back('}');
  return out;
}

const char* TypeName(int type) {
  static const char* const kNames[] = {"counter", "gauge", "histogram", "gauge", "counter"};
  return kNames[type];
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<std::int64_t>(value));
  }
  return absl::StrFormat("%.9g", value);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double seconds) {
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && seconds > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  const double nanos = seconds > 0 ? seconds * 1e9 : 0;
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(nanos), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return snapshot;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(absl::string_view name, absl::string_view help,
                                                    Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{std::string(help), type, {}, {}}).first;
  }
  return it->second;
}

Counter* MetricsRegistry::AddCounter(absl::string_view name, absl::string_view help,
                                     Labels labels) {
  MutexLock lock(&mu_);
  auto child = std::make_unique<Child>();
  child->labels = std::move(labels);
  child->counter = std::make_unique<Counter>();
  Counter* counter = child->counter.get();
  FamilyFor(name, help, Type::kCounter).children.push_back(std::move(child));
  return counter;
}

Gauge* MetricsRegistry::AddGauge(absl::string_view name, absl::string_view help, Labels labels) {
  MutexLock lock(&mu_);
  auto child = std::make_unique<Child>();
  child->labels = std::move(labels);
  child->gauge = std::make_unique<Gauge>();
  Gauge* gauge = child->gauge.get();
  FamilyFor(name, help, Type::kGauge).children.push_back(std::move(child));
  return gauge;
}

Histogram* MetricsRegistry::AddHistogram(absl::string_view name, absl::string_view help,
                                         std::vector<double> bounds, Labels labels) {
  MutexLock lock(&mu_);
  auto child = std::make_unique<Child>();
  child->labels = std::move(labels);
  child->histogram = std::make_unique<Histogram>(std::move(bounds));
  Histogram* histogram = child->histogram.get();
  FamilyFor(name, help, Type::kHistogram).children.push_back(std::move(child));
  return histogram;
}

void MetricsRegistry::AddCallback(absl::string_view name, absl::string_view help, bool counter,
                                  std::function<double()> value) {
  MutexLock lock(&mu_);
  FamilyFor(name, help, counter ? Type::kCallbackCounter : Type::kCallbackGauge).callback =
      std::move(value);
}

std::string MetricsRegistry::Render() const {
  MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", family.help, "\n# TYPE ", name, " ",
                    TypeName(static_cast<int>(family.type)), "\n");
    if (family.callback) {
      absl::StrAppend(&out, name, " ", FormatMetricValue(family.callback()), "\n");
      continue;
    }
    for (const auto& child : family.children) {
      switch (family.type) {
        case Type::kCounter:
          absl::StrAppend(&out, name, FormatLabels(child->labels), " ", child->counter->Value(),
                          "\n");
          break;
        case Type::kGauge:
          absl::StrAppend(&out, name, FormatLabels(child->labels), " ", child->gauge->Value(),
                          "\n");
          break;
        case Type::kHistogram: {
          const Histogram::Snapshot snapshot = child->histogram->Take();
          for (std::size_t i = 0; i <= snapshot.bounds.size(); ++i) {
            const std::string le = i < snapshot.bounds.size()
                                       ? FormatMetricValue(snapshot.bounds[i])
                                       : std::string("+Inf");
            absl::StrAppend(&out, name, "_bucket", FormatLabels(child->labels, "le", le), " ",
                            snapshot.cumulative_counts[i], "\n");
          }
          absl::StrAppend(&out, name, "_sum", FormatLabels(child->labels), " ",
                          FormatMetricValue(snapshot.sum), "\n");
          absl::StrAppend(&out, name, "_count", FormatLabels(child->labels), " ", snapshot.count,
                          "\n");
          break;
        }
        case Type::kCallbackGauge:
        case Type::kCallbackCounter:
          break;
      }
    }
  }
  return out;
}

}  // namespace osm
