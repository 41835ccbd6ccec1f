#include "adapter_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

// Every flag here also has an environment-variable twin, OSM_ADAPTER_<NAME>
// (see ApplyEnvironmentToFlags).

ABSL_FLAG(std::string, listen, "[::]:50051",
          "gRPC listen address: HOST:PORT (port 0 picks a free one) or unix:PATH");
ABSL_FLAG(std::string, upstream, "https://osm.ap-southeast-3.myhuaweicloud.com",
          "OSM base URL: https://, or http:// for local upstreams");
ABSL_FLAG(absl::Duration, max_upstream_timeout, absl::Seconds(30),
          "upper bound on one upstream call, whatever the caller's deadline");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10), "upstream connect time-out");
ABSL_FLAG(int, upstream_threads, 1, "upstream event-loop threads");
ABSL_FLAG(int, max_upstream_connections, 4096,
          "open connections to the upstream; further calls wait for one, inside their deadline");
ABSL_FLAG(std::string, upstream_ca_file, "",
          "PEM bundle of CAs trusted for the upstream's certificate (default: the system's)");
ABSL_FLAG(bool, upstream_http2, true,
          "HTTP/2 (by ALPN) to an https:// upstream; http:// upstreams always use HTTP/1.1");
ABSL_FLAG(absl::Duration, shutdown_delay, absl::ZeroDuration(),
          "on SIGTERM/SIGINT, how long to keep taking calls after health turns NOT_SERVING, "
          "so that load balancers notice (set it in Kubernetes, e.g. 5s)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(30),
          "on SIGTERM/SIGINT, how long the calls in flight may take to finish");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace osm {
namespace {

constexpr absl::string_view kEnvironmentPrefix = "OSM_ADAPTER_";

// The flags of this file: the adapter's own, not those of libraries.
bool IsAdapterFlag(const absl::CommandLineFlag& flag) {
  return absl::EndsWith(flag.Filename(), "adapter_flags.cc");
}

bool IsSecretFlag(absl::string_view name) {
  return absl::StrContains(name, "secret") || absl::StrContains(name, "token") ||
         absl::StrContains(name, "password");
}

absl::Status Invalid(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " (", EnvironmentName(flag), "): ", problem));
}

}  // namespace

std::string EnvironmentName(absl::string_view name) {
  return absl::StrCat(kEnvironmentPrefix, absl::AsciiStrToUpper(name));
}

absl::Status ApplyEnvironmentToFlags() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsAdapterFlag(*flag)) continue;
    const std::string variable = EnvironmentName(name);
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(variable, ": ", error));
    }
  }
  return absl::OkStatus();
}

void ConfigureUsage() {
  absl::SetProgramUsageMessage(absl::StrCat(
      "Serves huaweicloud.osm.v2.MessageService over gRPC and forwards each call to OSM.\n"
      "Usage: osm-adapter [--listen=HOST:PORT] [--upstream=URL] [flags]\n"
      "Every flag can also be set by an environment variable, ",
      kEnvironmentPrefix, "<FLAG IN UPPER CASE> (e.g. OSM_ADAPTER_LISTEN); flags win."));
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "adapter_flags.cc");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [] { return std::string("osm-adapter " OSM_ADAPTER_VERSION "\n"); };
  absl::SetFlagsUsageConfig(config);
}

absl::StatusOr<ProcessConfig> ConfigFromFlags() {
  ProcessConfig process;
  AdapterConfig& config = process.adapter;

  config.listen = absl::GetFlag(FLAGS_listen);
  if (config.listen.empty()) return Invalid("listen", "must not be empty");

  config.upstream = absl::GetFlag(FLAGS_upstream);
  if (absl::StatusOr<std::string> url = NormalizeUpstreamUrl(config.upstream); !url.ok()) {
    return Invalid("upstream", url.status().message());
  }
  config.max_upstream_timeout = absl::GetFlag(FLAGS_max_upstream_timeout);
  if (config.max_upstream_timeout <= absl::ZeroDuration()) {
    return Invalid("max_upstream_timeout", "must be positive");
  }
  config.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  if (config.connect_timeout <= absl::ZeroDuration()) {
    return Invalid("connect_timeout", "must be positive");
  }
  config.upstream_threads = absl::GetFlag(FLAGS_upstream_threads);
  if (config.upstream_threads < 1 || config.upstream_threads > 64) {
    return Invalid("upstream_threads", "must be between 1 and 64");
  }
  config.max_upstream_connections = absl::GetFlag(FLAGS_max_upstream_connections);
  if (config.max_upstream_connections < config.upstream_threads) {
    return Invalid("max_upstream_connections", "must be at least --upstream_threads");
  }
  config.upstream_ca_file = absl::GetFlag(FLAGS_upstream_ca_file);
  if (!config.upstream_ca_file.empty() && access(config.upstream_ca_file.c_str(), R_OK) != 0) {
    return Invalid("upstream_ca_file", absl::StrCat("cannot read ", config.upstream_ca_file));
  }
  config.upstream_http2 = absl::GetFlag(FLAGS_upstream_http2);

  process.shutdown_delay = absl::GetFlag(FLAGS_shutdown_delay);
  if (process.shutdown_delay < absl::ZeroDuration()) {
    return Invalid("shutdown_delay", "must not be negative");
  }
  process.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  if (process.drain_timeout < absl::ZeroDuration()) {
    return Invalid("drain_timeout", "must not be negative");
  }
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &process.log_level)) {
    return Invalid("log_level", absl::StrCat("must be debug, info, warning or error, got \"",
                                             absl::GetFlag(FLAGS_log_level), "\""));
  }
  return process;
}

std::vector<std::pair<std::string, std::string>> EffectiveFlags() {
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsAdapterFlag(*flag)) continue;
    std::string value = flag->CurrentValue();
    if (IsSecretFlag(name)) value = value.empty() ? "unset" : "set";
    flags.emplace_back(std::string(name), std::move(value));
  }
  std::sort(flags.begin(), flags.end());
  return flags;
}

}  // namespace osm
