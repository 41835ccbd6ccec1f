#ifndef OSM_SERVER_APP_ADAPTER_SERVER_H_
#define OSM_SERVER_APP_ADAPTER_SERVER_H_

#include <grpcpp/channel.h>
#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/app/listener_security.h"
#include "server/observability/access_log.h"
#include "server/observability/metrics.h"
#include "server/observability/metrics_http_server.h"
#include "server/osm/credentials.h"
#include "server/service/adapter_metrics.h"
#include "server/service/withdraw_service.h"
#include "server/upstream/upstream_client.h"

namespace osm {

// Everything the server needs to start; main() fills it from flags.
struct AdapterConfig {
  // gRPC listen address: HOST:PORT (port 0 picks a free one) or unix:PATH.
  std::string listen = "[::]:50051";
  // OSM base URL, as given; normalized by Start().
  std::string upstream = "https://osm.ap-southeast-3.myhuaweicloud.com";
  absl::Duration max_upstream_timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(10);
  int upstream_threads = 2;
  int max_upstream_connections = 4096;
  std::string upstream_ca_file;
  // HTTP/2 (negotiated by ALPN) to an https:// upstream. Plain http:// is
  // always HTTP/1.1: libcurl 7.88 fails on reused prior-knowledge h2c
  // connections.
  bool upstream_http2 = false;
  // Prometheus metrics on HOST:PORT at /metrics; empty: none.
  std::string metrics_listen;
  // The access log: "stderr", "off" or a file path.
  std::string access_log = "stderr";
  // Connection management for gRPC clients (see adapter_flags.cc for why
  // these defaults).
  absl::Duration max_connection_idle = absl::Minutes(15);
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::Minutes(5);
  absl::Duration keepalive_time = absl::Minutes(5);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration keepalive_min_time = absl::Seconds(10);
  // Calls served at once; beyond, RESOURCE_EXHAUSTED at once.
  int max_in_flight = 4096;
  // Defences against hostile HTTP/2 clients (see adapter_flags.cc).
  int grpc_memory_quota_mib = 128;  // 0: none
  int max_concurrent_streams = 100;
  int max_header_list_size = 8192;
  absl::Duration handshake_timeout = absl::Seconds(10);
  // gRPC over TLS, and mutual TLS (see listener_security.h).
  ListenerTlsFiles tls;
  // Signs every upstream request with the adapter's access key. Null:
  // callers send their own token, which is passed through.
  std::shared_ptr<CredentialsProvider> credentials;
  // With `credentials`: the network in front authorizes callers, so the
  // listener may be neither local-only nor mutual TLS.
  bool trust_network_callers = false;
};

// The largest request message accepted: a WithdrawRequest is well under
// 1 KiB, so anything near this is not a caller to serve.
inline constexpr int kMaxRequestMessageBytes = 64 * 1024;

// Checks and normalizes an upstream base URL: http or https, a host, no
// user info, query or fragment; returns scheme://host[:port][/prefix] with no
// trailing slash.
absl::StatusOr<std::string> NormalizeUpstreamUrl(absl::string_view url);

// The running adapter: the gRPC server with MessageService, health checking
// and reflection, and the upstream client behind it.
class AdapterServer {
 public:
  // Validates `config`, connects nothing yet, and starts listening.
  static absl::StatusOr<std::unique_ptr<AdapterServer>> Start(const AdapterConfig& config);
  // Start() with an injected upstream client (tests); it must outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<AdapterServer>> Start(const AdapterConfig& config,
                                                              UpstreamClient* upstream);

  // Shuts down if Shutdown() was not called.
  ~AdapterServer();

  // The address actually bound, e.g. "127.0.0.1:40123" or "unix:/run/osm.sock".
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // The metrics port actually bound (0 when metrics are off).
  int metrics_port() const;
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // What grpc.health.v1.Health answers for "" and for MessageService.
  void SetServing(bool serving);

  // Stops taking calls and waits for the calls in flight, for at most
  // `grace`; calls still running then are cancelled. The upstream client is
  // stopped after the last call has finished.
  void Shutdown(absl::Duration grace);

 private:
  AdapterServer() = default;
  static absl::StatusOr<std::unique_ptr<AdapterServer>> StartWith(const AdapterConfig& config,
                                                                  UpstreamClient* upstream);

  // Declared before what uses them, so that they are destroyed after.
  MetricsRegistry metrics_registry_;
  std::unique_ptr<AdapterMetrics> metrics_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<UpstreamClient> owned_upstream_;
  std::unique_ptr<WithdrawService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsHttpServer> metrics_server_;
  std::string address_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace osm

#endif  // OSM_SERVER_APP_ADAPTER_SERVER_H_
