#ifndef OSM_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
#define OSM_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/observability/metrics.h"

struct MHD_Daemon;

namespace osm {

// Serves GET /metrics (Prometheus text format) from `registry` on its own
// thread, with libmicrohttpd, and GET /ready: 200 while `*serving` is true,
// 503 otherwise, for load balancers that cannot speak gRPC's health
// protocol (HAProxy's HTTP checks: deploy/haproxy).
class MetricsHttpServer {
 public:
  // `listen`: HOST:PORT, [IPv6]:PORT; port 0 picks a free one. `registry`
  // and `serving` (optional: /ready is then 404) outlive the server.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      absl::string_view listen, const MetricsRegistry* registry,
      const std::atomic<bool>* serving = nullptr);
  ~MetricsHttpServer();

  int port() const { return port_; }
  const MetricsRegistry* registry() const { return registry_; }
  const std::atomic<bool>* serving() const { return serving_; }

 private:
  MetricsHttpServer() = default;

  const MetricsRegistry* registry_ = nullptr;
  const std::atomic<bool>* serving_ = nullptr;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
