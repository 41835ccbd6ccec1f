#ifndef OSM_SERVER_APP_ADAPTER_FLAGS_H_
#define OSM_SERVER_APP_ADAPTER_FLAGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/app/adapter_server.h"
#include "server/observability/log.h"

namespace osm {

// Everything the osm-adapter process is configured with.
struct ProcessConfig {
  AdapterConfig adapter;
  LogLevel log_level = LogLevel::kInfo;
  // On SIGTERM/SIGINT: health turns NOT_SERVING at once, calls are still
  // taken for `shutdown_delay` (so that load balancers notice), then the
  // calls in flight get at most `drain_timeout` to finish.
  absl::Duration shutdown_delay = absl::ZeroDuration();
  absl::Duration drain_timeout = absl::Seconds(30);
};

// The environment variable that sets flag `name`: OSM_ADAPTER_<NAME>.
std::string EnvironmentName(absl::string_view name);

// Sets the adapter's flags from their environment variables. Call before
// absl::ParseCommandLine, so that flags on the command line win. The error
// names the variable.
absl::Status ApplyEnvironmentToFlags();

// Makes --help list the adapter's flags (with their defaults and variables)
// and --version print the version.
void ConfigureUsage();

// The configuration the flags describe. Every setting is checked here, at
// start-up; the error is one line that names the setting.
absl::StatusOr<ProcessConfig> ConfigFromFlags();

// Every adapter flag and its effective value, for the start-up line. Flags
// that hold secrets show only "set" or "unset".
std::vector<std::pair<std::string, std::string>> EffectiveFlags();

}  // namespace osm

#endif  // OSM_SERVER_APP_ADAPTER_FLAGS_H_
