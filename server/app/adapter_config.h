#ifndef OSM_SERVER_APP_ADAPTER_CONFIG_H_
#define OSM_SERVER_APP_ADAPTER_CONFIG_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/app/listener_security.h"
#include "server/observability/log.h"
#include "server/osm/credentials.h"

namespace osm {

// Every setting of the adapter, with its default: the one place defaults
// live. Each field is the flag of the same name (adapter_flags.cc takes its
// default from here; `osm-adapter --help` explains it), and the environment
// variable OSM_ADAPTER_<NAME>. Tests start from AdapterConfig{} too.
struct AdapterConfig {
  // gRPC listen address: HOST:PORT (port 0 picks a free one) or unix:PATH.
  std::string listen = "[::]:50051";
  // OSM base URL.
  std::string upstream = "https://osm.ap-southeast-3.myhuaweicloud.com";
  absl::Duration max_upstream_timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(10);
  int upstream_threads = 2;
  // Run every thread under SCHED_BATCH: a thread woken by another (a gRPC
  // thread woken by the upstream loop, or the reverse) does not preempt the
  // waker, which goes on to finish its batch and sleep. Fewer context
  // switches per call (BENCHMARKS.md); a woken thread may wait up to a
  // scheduler slice when the CPU is busy with other work.
  bool batch_scheduling = true;
  int max_upstream_connections = 4096;
  std::string upstream_ca_file;
  // HTTP/2 (negotiated by ALPN) to an https:// upstream. Plain http:// is
  // always HTTP/1.1: libcurl 7.88 fails on reused prior-knowledge h2c
  // connections.
  bool upstream_http2 = false;
  // On SIGTERM/SIGINT: health turns NOT_SERVING at once, calls are still
  // taken for `shutdown_delay` (so that load balancers notice), then the
  // calls in flight get at most `drain_timeout` to finish.
  absl::Duration shutdown_delay = absl::ZeroDuration();
  absl::Duration drain_timeout = absl::Seconds(30);
  LogLevel log_level = LogLevel::kInfo;
  // Prometheus metrics on HOST:PORT at /metrics; empty: none.
  std::string metrics_listen = "[::]:9464";
  // Connection management for gRPC clients (adapter_flags.cc says why these
  // defaults).
  absl::Duration max_connection_idle = absl::Minutes(15);
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::Minutes(5);
  absl::Duration keepalive_time = absl::Minutes(5);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration keepalive_min_time = absl::Seconds(10);
  // Defences against hostile HTTP/2 clients (SECURITY.md).
  int grpc_memory_quota_mib = 128;  // 0: none
  int max_concurrent_streams = 100;
  int max_header_list_size = 8192;
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Calls served at once; beyond, RESOURCE_EXHAUSTED at once.
  int max_in_flight = 4096;
  // WatchNewMessages: streams open at once, and the time between polls
  // when the caller names none, and the shortest it may ask for.
  int max_watches = 256;
  absl::Duration watch_interval = absl::Seconds(5);
  absl::Duration min_watch_interval = absl::Seconds(1);
  // The access log: "stderr", "off" or a file path.
  std::string access_log = "stderr";
  // The access key signing upstream requests, from a JSON file (re-read
  // when it changes, looked at every `credentials_check_interval`) or from
  // the HUAWEICLOUD_SDK_* variables; see `credentials` below.
  std::string credentials_file;
  absl::Duration credentials_check_interval = absl::Seconds(1);
  // With credentials: the network in front authorizes callers, so the
  // listener may be neither local-only nor mutual TLS.
  bool trust_network_callers = false;
  // gRPC over TLS, and mutual TLS (--tls_cert_file, --tls_key_file,
  // --tls_client_ca_file; see listener_security.h).
  ListenerTlsFiles tls;

  // Not a flag: what signs every upstream request, built from
  // `credentials_file` or the environment (adapter_flags.cc), or by a test.
  // Null: callers send their own token, which is passed through.
  std::shared_ptr<CredentialsProvider> credentials;
};

// The environment variable that sets flag `name`: OSM_ADAPTER_<NAME>.
std::string EnvironmentName(absl::string_view name);

// INVALID_ARGUMENT naming the setting as its flag and variable:
// "--NAME (OSM_ADAPTER_NAME): problem".
absl::Status InvalidSetting(absl::string_view name, absl::string_view problem);

// Checks every setting that can be checked without starting anything: the
// first problem, as InvalidSetting() describes it. AdapterServer::Start()
// calls it; what needs a resource (a port, a file's contents) is checked
// where that resource is used, once.
absl::Status Validate(const AdapterConfig& config);

}  // namespace osm

#endif  // OSM_SERVER_APP_ADAPTER_CONFIG_H_
