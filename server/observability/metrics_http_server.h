#ifndef OSM_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
#define OSM_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/observability/metrics.h"

struct MHD_Daemon;

namespace osm {

// Serves GET /metrics (Prometheus text format) from `registry` on its own
// thread, with libmicrohttpd.
class MetricsHttpServer {
 public:
  // `listen`: HOST:PORT, [IPv6]:PORT; port 0 picks a free one.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(absl::string_view listen,
                                                                  const MetricsRegistry* registry);
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;

  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
