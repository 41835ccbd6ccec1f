#ifndef OSM_SERVER_APP_ADAPTER_SERVER_H_
#define OSM_SERVER_APP_ADAPTER_SERVER_H_

#include <grpcpp/channel.h>
#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/app/adapter_config.h"
#include "server/app/listener_security.h"
#include "server/observability/access_log.h"
#include "server/observability/metrics.h"
#include "server/observability/metrics_http_server.h"
#include "server/osm/credentials.h"
#include "server/service/adapter_metrics.h"
#include "server/service/message_service.h"
#include "server/upstream/upstream_client.h"

namespace osm {

// The largest request message accepted: a WithdrawRequest is well under
// 1 KiB, so anything near this is not a caller to serve.
inline constexpr int kMaxRequestMessageBytes = 64 * 1024;

// The running adapter: the gRPC server with MessageService, health checking
// and reflection, and the upstream client behind it.
class AdapterServer {
 public:
  // Validates `config` (Validate()), connects nothing yet, and starts
  // listening. `upstream`, if given, replaces the libcurl client (tests use
  // a fake one) and must outlive the server.
  static absl::StatusOr<std::unique_ptr<AdapterServer>> Start(const AdapterConfig& config,
                                                              UpstreamClient* upstream = nullptr);

  // Shuts down if Shutdown() was not called.
  ~AdapterServer();

  // The address actually bound, e.g. "127.0.0.1:40123" or "unix:/run/osm.sock".
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // The metrics port actually bound (0 when metrics are off).
  int metrics_port() const;
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // What grpc.health.v1.Health answers for "" and for MessageService, and
  // the metrics endpoint's GET /ready (200 or 503).
  void SetServing(bool serving);

  // Stops taking calls and waits for the calls in flight, for at most
  // `grace`; calls still running then are cancelled. The upstream client is
  // stopped after the last call has finished.
  void Shutdown(absl::Duration grace);

 private:
  AdapterServer() = default;

  // Declared before what uses them, so that they are destroyed after.
  MetricsRegistry metrics_registry_;
  std::atomic<bool> serving_{false};
  std::unique_ptr<AdapterMetrics> metrics_;
  std::unique_ptr<AccessLog> access_log_;
  std::shared_ptr<CredentialsProvider> credentials_;
  std::unique_ptr<UpstreamClient> owned_upstream_;
  std::unique_ptr<OsmMessageService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsHttpServer> metrics_server_;
  std::string address_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace osm

#endif  // OSM_SERVER_APP_ADAPTER_SERVER_H_
