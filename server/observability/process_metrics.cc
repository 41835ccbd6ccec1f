#include "server/observability/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace osm {
namespace {

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
