// osm-adapter: serves huaweicloud.osm.v2.MessageService over gRPC and
// forwards each call to OSM's REST API.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapter_server.h"
#include "log.h"

ABSL_FLAG(std::string, listen, "[::]:50051",
          "gRPC listen address, HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, upstream, "https://osm.ap-southeast-3.myhuaweicloud.com",
          "OSM base URL (https://, or http:// for local upstreams)");
ABSL_FLAG(absl::Duration, max_upstream_timeout, absl::Seconds(30),
          "upper bound on one upstream call, whatever the caller's deadline");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10), "upstream connect time-out");
ABSL_FLAG(int, upstream_threads, 1, "upstream event-loop threads");
ABSL_FLAG(int, max_upstream_connections, 4096,
          "open connections to the upstream; further requests wait for one");
ABSL_FLAG(std::string, upstream_ca_file, "",
          "PEM bundle of CAs trusted for the upstream (default: the system's)");
ABSL_FLAG(bool, upstream_http2, true,
          "HTTP/2 (by ALPN) to an https:// upstream; http:// upstreams always use HTTP/1.1");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "on SIGTERM/SIGINT, how long calls in flight may take to finish");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

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

int Fail(absl::string_view message) {
  osm::Log(osm::LogLevel::kError, message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves huaweicloud.osm.v2.MessageService over gRPC and forwards each call to OSM.\n"
      "Usage: osm-adapter [--listen=HOST:PORT] [--upstream=URL] [flags]");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] { return std::string("osm-adapter " OSM_ADAPTER_VERSION "\n"); };
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);

  osm::LogLevel level;
  if (!osm::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    return Fail(absl::StrCat("--log_level: must be debug, info, warning or error, got \"",
                             absl::GetFlag(FLAGS_log_level), "\""));
  }
  osm::SetMinLogLevel(level);
  // gRPC uses Abseil mutexes; their deadlock detection costs time on every
  // lock and finds nothing in a release build.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  const sigset_t signals = BlockShutdownSignals();
  RaiseDescriptorLimit();

  osm::AdapterConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.upstream = absl::GetFlag(FLAGS_upstream);
  config.max_upstream_timeout = absl::GetFlag(FLAGS_max_upstream_timeout);
  config.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  config.upstream_threads = absl::GetFlag(FLAGS_upstream_threads);
  config.max_upstream_connections = absl::GetFlag(FLAGS_max_upstream_connections);
  config.upstream_ca_file = absl::GetFlag(FLAGS_upstream_ca_file);
  config.upstream_http2 = absl::GetFlag(FLAGS_upstream_http2);
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);

  absl::StatusOr<std::unique_ptr<osm::AdapterServer>> server = osm::AdapterServer::Start(config);
  if (!server.ok()) return Fail(server.status().message());
  osm::Log(osm::LogLevel::kInfo, "listening",
           {{"address", (*server)->address()},
            {"upstream", config.upstream},
            {"version", OSM_ADAPTER_VERSION}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  osm::Log(osm::LogLevel::kInfo, "shutting down",
           {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"},
            {"grace", absl::FormatDuration(grace)}});

  // A second signal ends the process at once.
  std::atomic<bool> done{false};
  std::thread shutdown([&] {
    (*server)->Shutdown(grace);
    done = true;
    kill(getpid(), SIGTERM);  // wakes the sigwait below
  });
  sigwait(&signals, &signal_number);
  if (!done) {
    osm::Log(osm::LogLevel::kWarning, "second signal: exiting without waiting for calls");
    _exit(1);
  }
  shutdown.join();
  server->reset();
  osm::Log(osm::LogLevel::kInfo, "stopped");
  return 0;
}
