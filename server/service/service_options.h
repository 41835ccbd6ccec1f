#ifndef OSM_SERVER_SERVICE_SERVICE_OPTIONS_H_
#define OSM_SERVER_SERVICE_SERVICE_OPTIONS_H_

#include "absl/time/time.h"
#include "server/service/call_pipeline.h"

namespace osm {
class AccessLog;
class AdapterMetrics;
}  // namespace osm

namespace osm {

// The settings of MessageService's calls.
struct ServiceOptions {
  PipelineOptions pipeline;
  // Optional; each must outlive the service.
  AdapterMetrics* metrics = nullptr;
  AccessLog* access_log = nullptr;
  // Unary calls served at once; one more is refused at once with
  // RESOURCE_EXHAUSTED, RetryInfo and grpc-retry-pushback-ms.
  int max_in_flight = 4096;
  // The delay a refused caller is asked to wait.
  absl::Duration overload_retry_delay = absl::Seconds(1);
  // WatchNewMessages streams open at once; one more is refused like an
  // unary call beyond max_in_flight.
  int max_watches = 256;
  // Time between a watch's polls when the caller names none, and the
  // shortest a caller may ask for.
  absl::Duration watch_interval = absl::Seconds(5);
  absl::Duration min_watch_interval = absl::Seconds(1);
  // A watch's backoff after a transient failure: the first delay, doubled
  // after each failure in a row up to the cap, each with full jitter in
  // [0.5, 1.5).
  absl::Duration watch_backoff = absl::Seconds(1);
  absl::Duration max_watch_backoff = absl::Seconds(30);
};

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_SERVICE_OPTIONS_H_
