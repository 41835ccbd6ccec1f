#include "server/app/adapter_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/app/listener_security.h"
#include "server/osm/credentials.h"

// Every flag here also has an environment-variable twin, OSM_ADAPTER_<NAME>
// (see ApplyEnvironmentToFlags).

ABSL_FLAG(std::string, listen, "[::]:50051",
          "gRPC listen address: HOST:PORT (port 0 picks a free one) or unix:PATH");
ABSL_FLAG(std::string, upstream, "https://osm.ap-southeast-3.myhuaweicloud.com",
          "OSM base URL: https://, or http:// for local upstreams");
ABSL_FLAG(absl::Duration, max_upstream_timeout, absl::Seconds(30),
          "upper bound on one upstream call, whatever the caller's deadline");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10), "upstream connect time-out");
ABSL_FLAG(int, upstream_threads, 2,
          "upstream event-loop threads (at most one per allowed connection); a call goes to "
          "the least loaded one");
ABSL_FLAG(int, max_upstream_connections, 4096,
          "open connections to the upstream; further calls wait for one, inside their deadline");
ABSL_FLAG(std::string, upstream_ca_file, "",
          "PEM bundle of CAs trusted for the upstream's certificate (default: the system's)");
ABSL_FLAG(bool, upstream_http2, false,
          "HTTP/2 (by ALPN) to an https:// upstream: far fewer connections, but more CPU per "
          "call than HTTP/1.1 (BENCHMARKS.md); http:// upstreams always use HTTP/1.1");
ABSL_FLAG(absl::Duration, shutdown_delay, absl::ZeroDuration(),
          "on SIGTERM/SIGINT, how long to keep taking calls after health turns NOT_SERVING, "
          "so that load balancers notice (set it in Kubernetes, e.g. 5s)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(30),
          "on SIGTERM/SIGINT, how long the calls in flight may take to finish");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(std::string, metrics_listen, "[::]:9464",
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
ABSL_FLAG(absl::Duration, max_connection_idle, absl::Minutes(15),
          "close client connections idle this long (GOAWAY); inf: never");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Minutes(30),
          "close client connections this old (GOAWAY), so clients rebalance; inf: never");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::Minutes(5),
          "time calls in flight get after a connection's max age");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Minutes(5),
          "ping clients after this much silence, to find vanished peers");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "close a connection whose ping is not answered within this");
ABSL_FLAG(absl::Duration, keepalive_min_time, absl::Seconds(10),
          "the shortest interval between client pings that is tolerated");
// Defences against hostile HTTP/2 clients (SECURITY.md has the measurements
// behind each default). gRPC 1.51 bounds neither the number of connections
// nor rapid reset, CONTINUATION floods or 1-byte DATA frames: the front in
// deploy/haproxy bounds those.
ABSL_FLAG(int, grpc_memory_quota_mib, 128,
          "memory gRPC may use for its connections and calls, in MiB (0: no quota); under "
          "pressure gRPC closes idle connections and cancels calls, before the container's "
          "memory limit ends the process");
ABSL_FLAG(int, max_concurrent_streams, 100,
          "calls one client connection may have open at once (HTTP/2 "
          "SETTINGS_MAX_CONCURRENT_STREAMS); clients queue the rest on their side");
ABSL_FLAG(int, max_header_list_size, 8192,
          "the largest header list (metadata) of one call, in bytes; a larger one ends the "
          "connection");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "a new client connection must finish its TLS and HTTP/2 handshake within this");
ABSL_FLAG(int, max_in_flight, 4096,
          "calls served at once; one more is refused at once with RESOURCE_EXHAUSTED and a "
          "retry delay instead of queueing (each call in flight holds about 60 KiB and, over "
          "HTTP/1.1, an upstream connection)");
ABSL_FLAG(std::string, access_log, "stderr",
          "one JSON line per call: stderr, off, or a file path (appended to)");
ABSL_FLAG(std::string, credentials_file, "",
          "sign upstream requests (SDK-HMAC-SHA256) with the access key in this JSON file, "
          "{\"ak\",\"sk\"[,\"security_token\",\"domain_id\",\"expires_at\"]}, re-read "
          "when it changes; default: the HUAWEICLOUD_SDK_* variables, and without them callers' "
          "x-auth-token is passed through");
ABSL_FLAG(absl::Duration, credentials_check_interval, absl::Seconds(1),
          "how often --credentials_file is looked at for changes (0: on every call)");
ABSL_FLAG(bool, trust_network_callers, false,
          "when signing: the network in front (a mesh) authorizes callers, so a listener that "
          "is neither loopback/unix nor mutual TLS is allowed");
ABSL_FLAG(std::string, tls_cert_file, "",
          "serve gRPC over TLS with this PEM certificate chain (with --tls_key_file)");
ABSL_FLAG(std::string, tls_key_file, "", "the unencrypted PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "require client certificates issued by these PEM CAs (mutual TLS)");

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
absl::Status ConfigureCredentials(AdapterConfig& config) {
  const std::string file = absl::GetFlag(FLAGS_credentials_file);
  if (!file.empty()) {
    if (AnyCredentialVariableSet(&GetEnv)) {
      return Invalid("credentials_file",
                     "HUAWEICLOUD_SDK_* credentials are set in the environment too: use one "
                     "source");
    }
    FileCredentialsProvider::Options options;
    options.check_interval = absl::GetFlag(FLAGS_credentials_check_interval);
    if (options.check_interval < absl::ZeroDuration()) {
      return Invalid("credentials_check_interval", "must not be negative");
    }
    absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> provider =
        FileCredentialsProvider::Create(file, options);
    if (!provider.ok()) return Invalid("credentials_file", provider.status().message());
    if (const absl::Time expires_at = (*provider)->ExpiresAt(); expires_at <= absl::Now()) {
      return Invalid(
          "credentials_file",
          absl::StrCat(file, ": the credentials expired at ",
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

// Listener TLS, and whether a signing adapter is exposed.
absl::Status ConfigureListenerSecurity(AdapterConfig& config) {
  config.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  config.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  config.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (!config.tls.cert_file.empty() && config.tls.key_file.empty()) {
    return Invalid("tls_key_file", "is required with --tls_cert_file");
  }
  if (config.tls.cert_file.empty() && !config.tls.key_file.empty()) {
    return Invalid("tls_cert_file", "is required with --tls_key_file");
  }
  if (!config.tls.client_ca_file.empty() && config.tls.cert_file.empty()) {
    return Invalid("tls_client_ca_file",
                   "needs --tls_cert_file and --tls_key_file: client certificates are only "
                   "asked for over TLS");
  }
  if (absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> checked =
          ListenerCredentials(config.tls);
      !checked.ok()) {
    return checked.status();
  }
  config.trust_network_callers = absl::GetFlag(FLAGS_trust_network_callers);
  if (config.credentials != nullptr) {
    if (absl::Status exposed = CheckSigningListener(
            config.listen, !config.tls.client_ca_file.empty(), config.trust_network_callers);
        !exposed.ok()) {
      return Invalid("listen", exposed.message());
    }
  }
  return absl::OkStatus();
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
      kEnvironmentPrefix,
      "<FLAG IN UPPER CASE> (e.g. OSM_ADAPTER_LISTEN); flags win.\n"
      "Upstream authentication: callers' x-auth-token is passed through, unless the adapter "
      "has an access key (--credentials_file, or the environment variables HUAWEICLOUD_SDK_AK, "
      "_SK, _SECURITY_TOKEN, _DOMAIN_ID; in this environment: ",
      CredentialVariablesState(), "): then it signs every request itself."));
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
  if (config.max_upstream_connections < 1) {
    return Invalid("max_upstream_connections", "must be at least 1");
  }
  config.upstream_ca_file = absl::GetFlag(FLAGS_upstream_ca_file);
  if (!config.upstream_ca_file.empty() && access(config.upstream_ca_file.c_str(), R_OK) != 0) {
    return Invalid("upstream_ca_file", absl::StrCat("cannot read ", config.upstream_ca_file));
  }
  config.upstream_http2 = absl::GetFlag(FLAGS_upstream_http2);

  if (absl::Status status = ConfigureCredentials(config); !status.ok()) return status;
  if (absl::Status status = ConfigureListenerSecurity(config); !status.ok()) return status;

  struct DurationSetting {
    const char* name;
    absl::Duration value;
    absl::Duration* target;
  };
  for (const DurationSetting& setting :
       {DurationSetting{"max_connection_idle", absl::GetFlag(FLAGS_max_connection_idle),
                        &config.max_connection_idle},
        DurationSetting{"max_connection_age", absl::GetFlag(FLAGS_max_connection_age),
                        &config.max_connection_age},
        DurationSetting{"max_connection_age_grace", absl::GetFlag(FLAGS_max_connection_age_grace),
                        &config.max_connection_age_grace},
        DurationSetting{"keepalive_time", absl::GetFlag(FLAGS_keepalive_time),
                        &config.keepalive_time},
        DurationSetting{"keepalive_timeout", absl::GetFlag(FLAGS_keepalive_timeout),
                        &config.keepalive_timeout},
        DurationSetting{"keepalive_min_time", absl::GetFlag(FLAGS_keepalive_min_time),
                        &config.keepalive_min_time}}) {
    if (setting.value <= absl::ZeroDuration()) return Invalid(setting.name, "must be positive");
    *setting.target = setting.value;
  }
  config.grpc_memory_quota_mib = absl::GetFlag(FLAGS_grpc_memory_quota_mib);
  if (config.grpc_memory_quota_mib < 0) {
    return Invalid("grpc_memory_quota_mib", "must not be negative");
  }
  config.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  if (config.max_concurrent_streams < 1) {
    return Invalid("max_concurrent_streams", "must be at least 1");
  }
  config.max_header_list_size = absl::GetFlag(FLAGS_max_header_list_size);
  if (config.max_header_list_size < 1024) {
    return Invalid("max_header_list_size", "must be at least 1024");
  }
  config.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  if (config.handshake_timeout <= absl::ZeroDuration()) {
    return Invalid("handshake_timeout", "must be positive");
  }
  config.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  if (config.max_in_flight < 1) return Invalid("max_in_flight", "must be at least 1");
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.access_log = absl::GetFlag(FLAGS_access_log);
  if (config.access_log.empty()) return Invalid("access_log", "must be stderr, off or a path");

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
  flags.emplace_back("upstream_auth", UpstreamAuthDescription());
  std::sort(flags.begin(), flags.end());
  return flags;
}

}  // namespace osm
