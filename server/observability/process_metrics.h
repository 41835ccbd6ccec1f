#ifndef OSM_SERVER_OBSERVABILITY_PROCESS_METRICS_H_
#define OSM_SERVER_OBSERVABILITY_PROCESS_METRICS_H_

#include "server/observability/metrics.h"

namespace osm {

// Registers process_* metrics (CPU, memory, descriptors, threads, start
// time), read from /proc when scraped.
void RegisterProcessMetrics(MetricsRegistry* registry);

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_PROCESS_METRICS_H_
