#ifndef OSM_SERVER_SERVICE_ADAPTER_METRICS_H_
#define OSM_SERVER_SERVICE_ADAPTER_METRICS_H_

#include <grpcpp/support/status.h>

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/observability/metrics.h"

namespace osm {

// The RPCs of MessageService, as the metrics and the access log name them.
enum class RpcMethod {
  kWithdraw,
  kSendMessage,
  kListMessages,
  kListMoreMessages,
  kPollNewMessages,
  kCountUnreadMessages,
  kMarkMessagesRead,
  kListCaseMessages,
  kWatchNewMessages,
};
inline constexpr int kRpcMethodCount = 9;
// The method's name in the contract, e.g. "Withdraw".
absl::string_view RpcMethodName(RpcMethod method);

// The adapter's metrics, registered once; each method is a few relaxed
// atomic operations on the hot path.
class AdapterMetrics {
 public:
  explicit AdapterMetrics(MetricsRegistry* registry);

  void CallStarted() { in_flight_->Add(1); }
  void CallFinished(grpc::StatusCode code, absl::Duration total,
                    RpcMethod method = RpcMethod::kWithdraw);
  // A stream ended (it is not counted in flight).
  void StreamFinished(grpc::StatusCode code, absl::Duration total, RpcMethod method);
  // Watches (WatchNewMessages streams) open now.
  Gauge* watches() { return watches_; }
  // An HTTP answer; `error_code` is OSM's (labelled only if it is a known
  // code, else "other", so that the upstream cannot grow the label set).
  void UpstreamAnswered(int http_status, absl::string_view error_code, absl::Duration elapsed);
  // No answer: `reason` is the ErrorInfo reason (UPSTREAM_UNAVAILABLE, ...).
  void UpstreamFailed(absl::string_view reason, absl::Duration elapsed);

  // For the upstream client: connections currently open.
  Gauge* upstream_connections() { return upstream_connections_; }
  // For the upstream client: attempts repeated after failing before sending.
  Counter* upstream_retries() { return upstream_retries_; }

 private:
  static constexpr int kMaxHttpStatus = 600;
  Counter* UpstreamCounter(int http_status, int code_slot, absl::string_view code_label);

  MetricsRegistry* const registry_;
  Gauge* in_flight_;
  Gauge* upstream_connections_;
  Counter* upstream_retries_;
  Gauge* watches_;
  // By method, then grpc::StatusCode, OK (0) to UNAUTHENTICATED (16).
  Counter* calls_[kRpcMethodCount][grpc::StatusCode::UNAUTHENTICATED + 1];
  Histogram* call_duration_[kRpcMethodCount];
  Histogram* upstream_duration_;
  // By the reasons of AdapterReasons() that are upstream failures.
  std::vector<std::pair<absl::string_view, Counter*>> failures_;
  int known_code_count_;
  // [http status][error code slot]: created on first use, then lock-free.
  std::unique_ptr<std::atomic<Counter*>[]> upstream_requests_;
};

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_ADAPTER_METRICS_H_
