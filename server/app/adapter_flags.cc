#include "server/app/adapter_flags.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/flags_help.h"
#include "server/osm/credentials.h"

// The adapter's flags. Each takes its default from AdapterConfig, the one
// place defaults live, is listed in AdapterFlagNames() below, and has an
// environment-variable twin, OSM_ADAPTER_<NAME> (ApplyEnvironmentToFlags).

ABSL_FLAG(std::string, listen, osm::AdapterConfig().listen,
          "gRPC listen address: HOST:PORT (port 0 picks a free one) or unix:PATH");
ABSL_FLAG(std::string, upstream, osm::AdapterConfig().upstream,
          "OSM base URL: https://, or http:// for local upstreams");
ABSL_FLAG(absl::Duration, max_upstream_timeout, osm::AdapterConfig().max_upstream_timeout,
          "upper bound on one upstream call, whatever the caller's deadline");
ABSL_FLAG(absl::Duration, connect_timeout, osm::AdapterConfig().connect_timeout,
          "upstream connect time-out");
ABSL_FLAG(int, upstream_threads, osm::AdapterConfig().upstream_threads,
          "upstream event-loop threads (at most one per allowed connection); a call goes to "
          "the first until it has 32 calls in flight, then the least loaded one");
ABSL_FLAG(bool, batch_scheduling, osm::AdapterConfig().batch_scheduling,
          "run the adapter's threads under Linux's SCHED_BATCH policy: a woken thread does not "
          "preempt the one that woke it, so fewer context switches and less CPU per call "
          "(BENCHMARKS.md); false: the default policy");
ABSL_FLAG(int, max_upstream_connections, osm::AdapterConfig().max_upstream_connections,
          "open connections to the upstream; further calls wait for one, inside their deadline");
ABSL_FLAG(std::string, upstream_ca_file, osm::AdapterConfig().upstream_ca_file,
          "PEM bundle of CAs trusted for the upstream's certificate (default: the system's)");
ABSL_FLAG(bool, upstream_http2, osm::AdapterConfig().upstream_http2,
          "HTTP/2 (by ALPN) to an https:// upstream: far fewer connections, but more CPU per "
          "call than HTTP/1.1 (BENCHMARKS.md); http:// upstreams always use HTTP/1.1");
ABSL_FLAG(absl::Duration, shutdown_delay, osm::AdapterConfig().shutdown_delay,
          "on SIGTERM/SIGINT, how long to keep taking calls after health turns NOT_SERVING, "
          "so that load balancers notice (set it in Kubernetes, e.g. 5s)");
ABSL_FLAG(absl::Duration, drain_timeout, osm::AdapterConfig().drain_timeout,
          "on SIGTERM/SIGINT, how long the calls in flight may take to finish");
ABSL_FLAG(std::string, log_level, std::string(osm::LogLevelName(osm::AdapterConfig().log_level)),
          "debug, info, warning or error");
ABSL_FLAG(std::string, metrics_listen, osm::AdapterConfig().metrics_listen,
          "Prometheus metrics at http://HOST:PORT/metrics (numeric host; port 0 picks a free "
          "one); empty: no metrics endpoint");
// gRPC connection management. The defaults suit a mesh: GOAWAY after 30
// minutes (plus 5 of grace for calls in flight) makes long-lived client
// connections move to new pods after scaling, which L4 balancing never does
// by itself; idle connections are closed after 15 minutes, longer than the
// pools of Envoy and gRPC clients keep them busy; the server pings every 5
// minutes to find peers that vanished behind a NAT or load balancer; and it
// tolerates client pings every 10 s (gRPC's own default of 5 minutes answers
// clients that ping more often, as many are configured to, with GOAWAY
// too_many_pings).
ABSL_FLAG(absl::Duration, max_connection_idle, osm::AdapterConfig().max_connection_idle,
          "close client connections idle this long (GOAWAY); inf: never");
ABSL_FLAG(absl::Duration, max_connection_age, osm::AdapterConfig().max_connection_age,
          "close client connections this old (GOAWAY), so clients rebalance; inf: never");
ABSL_FLAG(absl::Duration, max_connection_age_grace, osm::AdapterConfig().max_connection_age_grace,
          "time calls in flight get after a connection's max age");
ABSL_FLAG(absl::Duration, keepalive_time, osm::AdapterConfig().keepalive_time,
          "ping clients after this much silence, to find vanished peers");
ABSL_FLAG(absl::Duration, keepalive_timeout, osm::AdapterConfig().keepalive_timeout,
          "close a connection whose ping is not answered within this");
ABSL_FLAG(absl::Duration, keepalive_min_time, osm::AdapterConfig().keepalive_min_time,
          "the shortest interval between client pings that is tolerated");
// Defences against hostile HTTP/2 clients (SECURITY.md has the measurements
// behind each default). gRPC 1.51 bounds neither the number of connections
// nor rapid reset, CONTINUATION floods or 1-byte DATA frames: the front in
// deploy/haproxy bounds those.
ABSL_FLAG(int, grpc_memory_quota_mib, osm::AdapterConfig().grpc_memory_quota_mib,
          "memory gRPC may use for its connections and calls, in MiB (0: no quota); under "
          "pressure gRPC closes idle connections and cancels calls, before the container's "
          "memory limit ends the process");
ABSL_FLAG(int, max_concurrent_streams, osm::AdapterConfig().max_concurrent_streams,
          "calls one client connection may have open at once (HTTP/2 "
          "SETTINGS_MAX_CONCURRENT_STREAMS); clients queue the rest on their side");
ABSL_FLAG(int, max_header_list_size, osm::AdapterConfig().max_header_list_size,
          "the largest header list (metadata) of one call, in bytes; a larger one ends the "
          "connection");
ABSL_FLAG(absl::Duration, handshake_timeout, osm::AdapterConfig().handshake_timeout,
          "a new client connection must finish its TLS and HTTP/2 handshake within this");
ABSL_FLAG(int, max_in_flight, osm::AdapterConfig().max_in_flight,
          "calls served at once; one more is refused at once with RESOURCE_EXHAUSTED and a "
          "retry delay instead of queueing (each call in flight holds about 40 KiB and, over "
          "HTTP/1.1, an upstream connection)");
ABSL_FLAG(int, max_watches, osm::AdapterConfig().max_watches,
          "WatchNewMessages streams open at once; one more is refused with RESOURCE_EXHAUSTED "
          "and a retry delay (each polls OSM once per interval, against the tenant's quota)");
ABSL_FLAG(absl::Duration, watch_interval, osm::AdapterConfig().watch_interval,
          "time between a watch's polls of OSM when the caller names no poll_interval");
ABSL_FLAG(absl::Duration, min_watch_interval, osm::AdapterConfig().min_watch_interval,
          "the shortest poll_interval a watch may ask for; shorter ones are raised to it");
ABSL_FLAG(std::string, access_log, osm::AdapterConfig().access_log,
          "one JSON line per call: stderr, off, or a file path (appended to)");
ABSL_FLAG(std::string, credentials_file, osm::AdapterConfig().credentials_file,
          "sign upstream requests (SDK-HMAC-SHA256) with the access key in this JSON file, "
          "{\"ak\",\"sk\"[,\"security_token\",\"domain_id\",\"expires_at\"]}, re-read "
          "when it changes; default: the HUAWEICLOUD_SDK_* variables, and without them callers' "
          "x-auth-token is passed through");
ABSL_FLAG(absl::Duration, credentials_check_interval,
          osm::AdapterConfig().credentials_check_interval,
          "how often --credentials_file is looked at for changes (0: on every call)");
ABSL_FLAG(bool, trust_network_callers, osm::AdapterConfig().trust_network_callers,
          "when signing: the network in front (a mesh) authorizes callers, so a listener that "
          "is neither loopback/unix nor mutual TLS is allowed");
ABSL_FLAG(std::string, tls_cert_file, osm::AdapterConfig().tls.cert_file,
          "serve gRPC over TLS with this PEM certificate chain (with --tls_key_file)");
ABSL_FLAG(std::string, tls_key_file, osm::AdapterConfig().tls.key_file,
          "the unencrypted PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_client_ca_file, osm::AdapterConfig().tls.client_ca_file,
          "require client certificates issued by these PEM CAs (mutual TLS)");

namespace osm {
namespace {

constexpr absl::string_view kAdapterFlagNames[] = {
    "listen",
    "upstream",
    "max_upstream_timeout",
    "connect_timeout",
    "upstream_threads",
    "batch_scheduling",
    "max_upstream_connections",
    "upstream_ca_file",
    "upstream_http2",
    "shutdown_delay",
    "drain_timeout",
    "log_level",
    "metrics_listen",
    "max_connection_idle",
    "max_connection_age",
    "max_connection_age_grace",
    "keepalive_time",
    "keepalive_timeout",
    "keepalive_min_time",
    "grpc_memory_quota_mib",
    "max_concurrent_streams",
    "max_header_list_size",
    "handshake_timeout",
    "max_in_flight",
    "max_watches",
    "watch_interval",
    "min_watch_interval",
    "access_log",
    "credentials_file",
    "credentials_check_interval",
    "trust_network_callers",
    "tls_cert_file",
    "tls_key_file",
    "tls_client_ca_file",
};

bool IsSecretFlag(absl::string_view name) {
  return absl::StrContains(name, "secret") || absl::StrContains(name, "token") ||
         absl::StrContains(name, "password");
}

const char* GetEnv(const char* name) { return std::getenv(name); }

// Which credentials sign upstream requests, by source, never by value.
std::string UpstreamAuthDescription() {
  const std::string file = absl::GetFlag(FLAGS_credentials_file);
  if (!file.empty()) return absl::StrCat("signed: file ", file);
  if (AnyCredentialVariableSet(&GetEnv)) return "signed: environment";
  return "pass-through";
}

// Which HUAWEICLOUD_SDK_* variables are set: names only.
std::string CredentialVariablesState() {
  std::string state;
  for (absl::string_view name :
       {kAccessKeyVariable, kSecretKeyVariable, kSecurityTokenVariable, kDomainIdVariable}) {
    const char* value = GetEnv(std::string(name).c_str());
    absl::StrAppend(&state, state.empty() ? "" : ", ", name,
                    value != nullptr && value[0] != '\0' ? " set" : " unset");
  }
  return state;
}

// The access key the flags and the environment give, if any.
absl::Status LoadCredentials(AdapterConfig& config) {
  if (!config.credentials_file.empty()) {
    if (AnyCredentialVariableSet(&GetEnv)) {
      return InvalidSetting("credentials_file",
                            "HUAWEICLOUD_SDK_* credentials are set in the environment too: use "
                            "one source");
    }
    FileCredentialsProvider::Options options;
    options.check_interval = config.credentials_check_interval;
    absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> provider =
        FileCredentialsProvider::Create(config.credentials_file, options);
    if (!provider.ok()) return InvalidSetting("credentials_file", provider.status().message());
    if (const absl::Time expires_at = (*provider)->ExpiresAt(); expires_at <= absl::Now()) {
      return InvalidSetting(
          "credentials_file",
          absl::StrCat(config.credentials_file, ": the credentials expired at ",
                       absl::FormatTime(absl::RFC3339_sec, expires_at, absl::UTCTimeZone())));
    }
    config.credentials = *std::move(provider);
    return absl::OkStatus();
  }
  absl::StatusOr<AkSkCredentials> from_environment = CredentialsFromEnvironment(&GetEnv);
  if (from_environment.ok()) {
    config.credentials =
        std::make_shared<StaticCredentialsProvider>(*std::move(from_environment), "environment");
  } else if (!absl::IsNotFound(from_environment.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment: ", from_environment.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Span<const absl::string_view> AdapterFlagNames() { return kAdapterFlagNames; }

absl::Status ApplyEnvironmentToFlags() {
  for (absl::string_view name : kAdapterFlagNames) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) std::abort();  // the list names a flag that does not exist
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

bool HandleUsageFlags(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.version_string = [] { return std::string("osm-adapter " OSM_ADAPTER_VERSION "\n"); };
  absl::SetFlagsUsageConfig(config);
  return HandleHelpFlag(
      argc, argv,
      absl::StrCat(
          "osm-adapter: serves huaweicloud.osm.v2.MessageService over gRPC and forwards each "
          "call to OSM.\n"
          "Usage: osm-adapter [--listen=HOST:PORT] [--upstream=URL] [flags]\n"
          "Every flag can also be set by an environment variable, OSM_ADAPTER_<FLAG IN UPPER "
          "CASE> (e.g. OSM_ADAPTER_LISTEN); flags win.\n"
          "Upstream authentication: callers' x-auth-token is passed through, unless the adapter "
          "has an access key (--credentials_file, or the environment variables "
          "HUAWEICLOUD_SDK_AK, _SK, _SECURITY_TOKEN, _DOMAIN_ID; in this environment: ",
          CredentialVariablesState(), "): then it signs every request itself."),
      kAdapterFlagNames, std::cout);
}

absl::StatusOr<AdapterConfig> ConfigFromFlags() {
  AdapterConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.upstream = absl::GetFlag(FLAGS_upstream);
  config.max_upstream_timeout = absl::GetFlag(FLAGS_max_upstream_timeout);
  config.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  config.upstream_threads = absl::GetFlag(FLAGS_upstream_threads);
  config.batch_scheduling = absl::GetFlag(FLAGS_batch_scheduling);
  config.max_upstream_connections = absl::GetFlag(FLAGS_max_upstream_connections);
  config.upstream_ca_file = absl::GetFlag(FLAGS_upstream_ca_file);
  config.upstream_http2 = absl::GetFlag(FLAGS_upstream_http2);
  config.shutdown_delay = absl::GetFlag(FLAGS_shutdown_delay);
  config.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &config.log_level)) {
    return InvalidSetting("log_level", absl::StrCat("must be debug, info, warning or error, got \"",
                                                    absl::GetFlag(FLAGS_log_level), "\""));
  }
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle);
  config.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  config.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);
  config.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  config.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  config.keepalive_min_time = absl::GetFlag(FLAGS_keepalive_min_time);
  config.grpc_memory_quota_mib = absl::GetFlag(FLAGS_grpc_memory_quota_mib);
  config.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  config.max_header_list_size = absl::GetFlag(FLAGS_max_header_list_size);
  config.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  config.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  config.max_watches = absl::GetFlag(FLAGS_max_watches);
  config.watch_interval = absl::GetFlag(FLAGS_watch_interval);
  config.min_watch_interval = absl::GetFlag(FLAGS_min_watch_interval);
  config.access_log = absl::GetFlag(FLAGS_access_log);
  config.credentials_file = absl::GetFlag(FLAGS_credentials_file);
  config.credentials_check_interval = absl::GetFlag(FLAGS_credentials_check_interval);
  config.trust_network_callers = absl::GetFlag(FLAGS_trust_network_callers);
  config.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  config.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  config.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (absl::Status loaded = LoadCredentials(config); !loaded.ok()) return loaded;
  return config;
}

std::vector<std::pair<std::string, std::string>> EffectiveFlags() {
  std::vector<std::pair<std::string, std::string>> flags;
  for (absl::string_view name : kAdapterFlagNames) {
    std::string value = absl::FindCommandLineFlag(name)->CurrentValue();
    if (IsSecretFlag(name)) value = value.empty() ? "unset" : "set";
    flags.emplace_back(std::string(name), std::move(value));
  }
  flags.emplace_back("upstream_auth", UpstreamAuthDescription());
  std::sort(flags.begin(), flags.end());
  return flags;
}

}  // namespace osm
