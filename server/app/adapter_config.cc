#include "server/app/adapter_config.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/upstream/upstream_url.h"

namespace osm {

std::string EnvironmentName(absl::string_view name) {
  return absl::StrCat("OSM_ADAPTER_", absl::AsciiStrToUpper(name));
}

absl::Status InvalidSetting(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, " (", EnvironmentName(name), "): ", problem));
}

absl::Status Validate(const AdapterConfig& config) {
  if (config.listen.empty()) return InvalidSetting("listen", "must not be empty");
  if (absl::StatusOr<UpstreamUrl> url = ParseUpstreamUrl(config.upstream); !url.ok()) {
    return InvalidSetting("upstream", url.status().message());
  }
  if (config.upstream_threads < 1 || config.upstream_threads > 64) {
    return InvalidSetting("upstream_threads", "must be between 1 and 64");
  }
  if (config.max_upstream_connections < 1) {
    return InvalidSetting("max_upstream_connections", "must be at least 1");
  }
  if (!config.upstream_ca_file.empty() && access(config.upstream_ca_file.c_str(), R_OK) != 0) {
    return InvalidSetting("upstream_ca_file",
                          absl::StrCat("cannot read ", config.upstream_ca_file));
  }
  struct Positive {
    const char* name;
    absl::Duration value;
  };
  for (const Positive& setting :
       {Positive{"max_upstream_timeout", config.max_upstream_timeout},
        Positive{"connect_timeout", config.connect_timeout},
        Positive{"max_connection_idle", config.max_connection_idle},
        Positive{"max_connection_age", config.max_connection_age},
        Positive{"max_connection_age_grace", config.max_connection_age_grace},
        Positive{"keepalive_time", config.keepalive_time},
        Positive{"keepalive_timeout", config.keepalive_timeout},
        Positive{"keepalive_min_time", config.keepalive_min_time},
        Positive{"handshake_timeout", config.handshake_timeout}}) {
    if (setting.value <= absl::ZeroDuration())
      return InvalidSetting(setting.name, "must be positive");
  }
  for (const Positive& setting :
       {Positive{"shutdown_delay", config.shutdown_delay},
        Positive{"drain_timeout", config.drain_timeout},
        Positive{"credentials_check_interval", config.credentials_check_interval}}) {
    if (setting.value < absl::ZeroDuration()) {
      return InvalidSetting(setting.name, "must not be negative");
    }
  }
  if (config.grpc_memory_quota_mib < 0) {
    return InvalidSetting("grpc_memory_quota_mib", "must not be negative");
  }
  if (config.max_concurrent_streams < 1) {
    return InvalidSetting("max_concurrent_streams", "must be at least 1");
  }
  if (config.max_header_list_size < 1024) {
    return InvalidSetting("max_header_list_size", "must be at least 1024");
  }
  if (config.max_in_flight < 1) return InvalidSetting("max_in_flight", "must be at least 1");
  if (config.max_watches < 0) return InvalidSetting("max_watches", "must not be negative");
  if (config.min_watch_interval < absl::Milliseconds(100)) {
    return InvalidSetting("min_watch_interval", "must be at least 100ms");
  }
  if (config.watch_interval < config.min_watch_interval ||
      config.watch_interval > absl::Hours(1)) {
    return InvalidSetting("watch_interval", "must be from --min_watch_interval to 1h");
  }
  if (config.access_log.empty()) {
    return InvalidSetting("access_log", "must be stderr, off or a path");
  }
  const ListenerTlsFiles& tls = config.tls;
  if (!tls.cert_file.empty() && tls.key_file.empty()) {
    return InvalidSetting("tls_key_file", "is required with --tls_cert_file");
  }
  if (tls.cert_file.empty() && !tls.key_file.empty()) {
    return InvalidSetting("tls_cert_file", "is required with --tls_key_file");
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return InvalidSetting("tls_client_ca_file",
                          "needs --tls_cert_file and --tls_key_file: client certificates are only "
                          "asked for over TLS");
  }
  if (config.credentials != nullptr) {
    if (absl::Status exposed = CheckSigningListener(config.listen, !tls.client_ca_file.empty(),
                                                    config.trust_network_callers);
        !exposed.ok()) {
      return InvalidSetting("listen", exposed.message());
    }
  }
  return absl::OkStatus();
}

}  // namespace osm
