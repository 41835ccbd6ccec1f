// osm-adapter: serves huaweicloud.osm.v2.MessageService over gRPC and
// forwards each call to OSM's REST API.

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifdef OSM_WITH_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/app/adapter_flags.h"
#include "server/app/adapter_server.h"
#include "server/observability/log.h"

namespace {

// Blocks the signals main() waits for, in every thread started after this.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Each call in flight holds an upstream connection: allow as many
// descriptors as the hard limit permits.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// SCHED_BATCH for this thread and every thread started after it (see
// AdapterConfig::batch_scheduling). Any process may choose it for itself.
void UseBatchScheduling() {
  const sched_param param{};
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
    osm::Log(osm::LogLevel::kWarning, "--batch_scheduling: cannot use SCHED_BATCH",
             {{"error", std::strerror(errno)}});
  }
}

// tcmalloc keeps up to 32 MiB of freed memory in its per-thread caches by
// default. A call allocates on a gRPC thread and frees on an upstream loop
// (and the reverse), so those caches mostly hold memory for the wrong
// thread: 4 MiB in all costs no measurable CPU and 5 MiB less peak RSS with
// 2,000 calls in flight (BENCHMARKS.md).
void BoundAllocatorCaches() {
#ifdef OSM_WITH_TCMALLOC
  MallocExtension::instance()->SetNumericProperty("tcmalloc.max_total_thread_cache_bytes",
                                                  std::size_t{4} << 20);
#endif
}

int Fail(absl::string_view message) {
  osm::Log(osm::LogLevel::kError, message);
  return 2;
}

const char* SignalName(int signal_number) {
  return signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
}

}  // namespace

int main(int argc, char** argv) {
  if (osm::HandleUsageFlags(argc, argv)) return 0;
  if (absl::Status status = osm::ApplyEnvironmentToFlags(); !status.ok()) {
    return Fail(status.message());
  }
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<osm::AdapterConfig> config = osm::ConfigFromFlags();
  if (!config.ok()) return Fail(config.status().message());
  osm::SetMinLogLevel(config->log_level);
  // gRPC uses Abseil mutexes; their deadlock detection costs time on every
  // lock and finds nothing in a release build.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  const sigset_t signals = BlockShutdownSignals();
  RaiseDescriptorLimit();
  BoundAllocatorCaches();
  // Before gRPC and the upstream loops start their threads, which inherit it.
  if (config->batch_scheduling) UseBatchScheduling();

  absl::StatusOr<std::unique_ptr<osm::AdapterServer>> server = osm::AdapterServer::Start(*config);
  if (!server.ok()) return Fail(server.status().message());
  {
    const std::vector<std::pair<std::string, std::string>> flags = osm::EffectiveFlags();
    const std::string metrics_port = absl::StrCat((*server)->metrics_port());
    std::vector<osm::LogField> fields = {{"address", (*server)->address()},
                                         {"metrics_port", metrics_port},
                                         {"version", OSM_ADAPTER_VERSION}};
    for (const auto& [name, value] : flags) fields.emplace_back(name, value);
    osm::Log(osm::LogLevel::kInfo, "listening", fields);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  osm::Log(osm::LogLevel::kInfo, "shutting down",
           {{"signal", SignalName(signal_number)},
            {"shutdown_delay", absl::FormatDuration(config->shutdown_delay)},
            {"drain_timeout", absl::FormatDuration(config->drain_timeout)}});

  // Health turns NOT_SERVING at once; a second signal ends the process at
  // once, whatever is still running.
  (*server)->SetServing(false);
  std::atomic<bool> done{false};
  std::thread shutdown([&] {
    absl::SleepFor(config->shutdown_delay);
    (*server)->Shutdown(config->drain_timeout);
    done = true;
    kill(getpid(), SIGTERM);  // wakes the sigwait below
  });
  sigwait(&signals, &signal_number);
  if (!done) {
    osm::Log(osm::LogLevel::kWarning, "second signal: exiting without waiting for calls",
             {{"signal", SignalName(signal_number)}});
    _exit(1);
  }
  shutdown.join();
  server->reset();
  osm::Log(osm::LogLevel::kInfo, "stopped");
  return 0;
}
