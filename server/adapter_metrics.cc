#include "adapter_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "osm_error_codes.h"
#include "rich_status.h"

namespace osm {
namespace {

constexpr absl::string_view kFailureReasons[] = {"UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT",
                                                 "CANCELLED", "UPSTREAM_TRANSPORT_ERROR"};

// Fields of /proc/self/stat after the command name.
std::vector<std::string> ProcStat() {
  std::ifstream file("/proc/self/stat");
  std::string line;
  std::getline(file, line);
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(line.substr(close + 2), ' ');
}

double ProcStatField(int field) {  // 1-based field number of proc(5)
  const std::vector<std::string> fields = ProcStat();
  const std::size_t index = static_cast<std::size_t>(field - 3);
  double value = 0;
  if (index < fields.size()) (void)absl::SimpleAtod(fields[index], &value);
  return value;
}

double ProcStatusKib(absl::string_view key) {
  std::ifstream file("/proc/self/status");
  std::string line;
  while (std::getline(file, line)) {
    if (absl::StartsWith(line, key)) {
      double value = 0;
      std::vector<absl::string_view> parts =
          absl::StrSplit(line.substr(key.size()), ' ', absl::SkipEmpty());
      if (!parts.empty()) (void)absl::SimpleAtod(parts[0], &value);
      return value;
    }
  }
  return 0;
}

}  // namespace

AdapterMetrics::AdapterMetrics(MetricsRegistry* registry) : registry_(registry) {
  in_flight_ = registry->AddGauge("osm_adapter_calls_in_flight", "Calls being served now.");
  upstream_connections_ = registry->AddGauge("osm_adapter_upstream_connections",
                                             "Connections to the upstream currently open.");
  upstream_retries_ =
      registry->AddCounter("osm_adapter_upstream_retries_total",
                           "Upstream requests tried again after failing before anything was sent.");
  for (int code = 0; code < 17; ++code) {
    calls_[code] = registry->AddCounter(
        "osm_adapter_calls_total", "Finished calls by method and gRPC status code.",
        {{"method", "Withdraw"},
         {"code", std::string(StatusCodeName(static_cast<grpc::StatusCode>(code)))}});
  }
  call_duration_ = registry->AddHistogram("osm_adapter_call_duration_seconds",
                                          "Time from a call's arrival to its status.",
                                          LatencyBuckets(), {{"method", "Withdraw"}});
  upstream_duration_ =
      registry->AddHistogram("osm_adapter_upstream_duration_seconds",
                             "Time spent on the upstream request.", LatencyBuckets());
  for (int i = 0; i < 4; ++i) {
    failures_[i] = registry->AddCounter("osm_adapter_upstream_failures_total",
                                        "Upstream requests that got no HTTP answer, by reason.",
                                        {{"reason", std::string(kFailureReasons[i])}});
  }
  known_code_count_ = static_cast<int>(KnownOsmErrorCodes().size());
  const std::size_t cells = static_cast<std::size_t>(kMaxHttpStatus) * (known_code_count_ + 2);
  upstream_requests_.reset(new std::atomic<Counter*>[cells]);
  for (std::size_t i = 0; i < cells; ++i) upstream_requests_[i].store(nullptr);
  // Registered up front so that the family shows before the first call.
  UpstreamCounter(200, known_code_count_, "");
}

void AdapterMetrics::CallFinished(grpc::StatusCode code, absl::Duration total) {
  const int index = static_cast<int>(code);
  if (index >= 0 && index < 17) calls_[index]->Increment();
  call_duration_->Observe(absl::ToDoubleSeconds(total));
  in_flight_->Add(-1);
}

Counter* AdapterMetrics::UpstreamCounter(int http_status, int code_slot,
                                         absl::string_view code_label) {
  std::atomic<Counter*>& cell =
      upstream_requests_[static_cast<std::size_t>(http_status) * (known_code_count_ + 2) +
                         static_cast<std::size_t>(code_slot)];
  Counter* counter = cell.load(std::memory_order_acquire);
  if (counter != nullptr) return counter;
  // First time for this pair: create it (two threads may race; both get a
  // counter in the registry, only one is kept, the other stays at zero).
  Counter* created = registry_->AddCounter(
      "osm_adapter_upstream_requests_total",
      "Upstream HTTP answers by status and OSM error code (\"\" for none, \"other\" for codes "
      "the adapter does not know).",
      {{"http_status", absl::StrCat(http_status)}, {"error_code", std::string(code_label)}});
  if (cell.compare_exchange_strong(counter, created, std::memory_order_acq_rel)) return created;
  return counter;
}

void AdapterMetrics::UpstreamAnswered(int http_status, absl::string_view error_code,
                                      absl::Duration elapsed) {
  upstream_duration_->Observe(absl::ToDoubleSeconds(elapsed));
  if (http_status < 0 || http_status >= kMaxHttpStatus) http_status = 0;
  int slot = known_code_count_;  // ""
  absl::string_view label;
  if (!error_code.empty()) {
    if (const OsmErrorCode* known = FindOsmErrorCode(error_code); known != nullptr) {
      slot = static_cast<int>(known - KnownOsmErrorCodes().data());
      label = known->code;
    } else {
      slot = known_code_count_ + 1;
      label = "other";
    }
  }
  UpstreamCounter(http_status, slot, label)->Increment();
}

void AdapterMetrics::UpstreamFailed(absl::string_view reason, absl::Duration elapsed) {
  upstream_duration_->Observe(absl::ToDoubleSeconds(elapsed));
  for (int i = 0; i < 4; ++i) {
    if (kFailureReasons[i] == reason) {
      failures_[i]->Increment();
      return;
    }
  }
  failures_[3]->Increment();
}

void RegisterProcessMetrics(MetricsRegistry* registry) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double boot_time = [] {
    std::ifstream file("/proc/stat");
    std::string line;
    while (std::getline(file, line)) {
      if (absl::StartsWith(line, "btime ")) {
        double value = 0;
        (void)absl::SimpleAtod(line.substr(6), &value);
        return value;
      }
    }
    return 0.0;
  }();
  registry->AddCallback("process_cpu_seconds_total", "User and system CPU time spent.", true,
                        [] { return (ProcStatField(14) + ProcStatField(15)) / ticks; });
  registry->AddCallback("process_resident_memory_bytes", "Resident memory size.", false,
                        [] { return ProcStatField(24) * page; });
  registry->AddCallback("process_virtual_memory_bytes", "Virtual memory size.", false,
                        [] { return ProcStatField(23); });
  registry->AddCallback("process_resident_memory_peak_bytes", "Peak resident memory size.", false,
                        [] { return ProcStatusKib("VmHWM:") * 1024; });
  registry->AddCallback("process_threads", "Threads of the process.", false,
                        [] { return ProcStatField(20); });
  registry->AddCallback("process_start_time_seconds", "Start time, seconds since the epoch.", false,
                        [] { return boot_time + ProcStatField(22) / ticks; });
  registry->AddCallback("process_open_fds", "Open file descriptors.", false, [] {
    double count = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
      }
      closedir(dir);
      --count;  // the one opendir holds
    }
    return count;
  });
  registry->AddCallback("process_max_fds", "Limit on open file descriptors.", false,
                        [] { return static_cast<double>(sysconf(_SC_OPEN_MAX)); });
}

}  // namespace osm
