#include "server/service/adapter_metrics.h"

#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/observability/status_code_name.h"
#include "server/osm/adapter_errors.h"
#include "server/osm/osm_error_codes.h"

namespace osm {

absl::string_view RpcMethodName(RpcMethod method) {
  static constexpr absl::string_view kNames[kRpcMethodCount] = {
      "Withdraw",         "SendMessage",      "ListMessages",
      "ListMoreMessages", "PollNewMessages",  "CountUnreadMessages",
      "MarkMessagesRead", "ListCaseMessages", "WatchNewMessages"};
  return kNames[static_cast<int>(method)];
}

AdapterMetrics::AdapterMetrics(MetricsRegistry* registry) : registry_(registry) {
  in_flight_ = registry->AddGauge("osm_adapter_calls_in_flight", "Calls being served now.");
  upstream_connections_ = registry->AddGauge("osm_adapter_upstream_connections",
                                             "Connections to the upstream currently open.");
  upstream_retries_ =
      registry->AddCounter("osm_adapter_upstream_retries_total",
                           "Upstream requests tried again after failing before anything was sent.");
  watches_ = registry->AddGauge("osm_adapter_watches", "WatchNewMessages streams open now.");
  for (int method = 0; method < kRpcMethodCount; ++method) {
    const std::string name(RpcMethodName(static_cast<RpcMethod>(method)));
    for (int code = 0; code < static_cast<int>(std::size(calls_[method])); ++code) {
      calls_[method][code] = registry->AddCounter(
          "osm_adapter_calls_total", "Finished calls by method and gRPC status code.",
          {{"method", name},
           {"code", std::string(StatusCodeName(static_cast<grpc::StatusCode>(code)))}});
    }
    call_duration_[method] = registry->AddHistogram("osm_adapter_call_duration_seconds",
                                                    "Time from a call's arrival to its status.",
                                                    LatencyBuckets(), {{"method", name}});
  }
  upstream_duration_ =
      registry->AddHistogram("osm_adapter_upstream_duration_seconds",
                             "Time spent on the upstream request.", LatencyBuckets());
  for (const AdapterReasonInfo& info : AdapterReasons()) {
    if (!info.upstream_failure) continue;
    failures_.emplace_back(
        info.name, registry->AddCounter("osm_adapter_upstream_failures_total",
                                        "Upstream requests that got no HTTP answer, by reason.",
                                        {{"reason", std::string(info.name)}}));
  }
  known_code_count_ = static_cast<int>(KnownOsmErrorCodes().size());
  const std::size_t cells = static_cast<std::size_t>(kMaxHttpStatus) * (known_code_count_ + 2);
  upstream_requests_.reset(new std::atomic<Counter*>[cells]);
  for (std::size_t i = 0; i < cells; ++i) upstream_requests_[i].store(nullptr);
  // Registered up front so that the family shows before the first call.
  UpstreamCounter(200, known_code_count_, "");
}

void AdapterMetrics::CallFinished(grpc::StatusCode code, absl::Duration total, RpcMethod method) {
  StreamFinished(code, total, method);
  in_flight_->Add(-1);
}

void AdapterMetrics::StreamFinished(grpc::StatusCode code, absl::Duration total, RpcMethod method) {
  const int row = static_cast<int>(method);
  const int index = static_cast<int>(code);
  if (index >= 0 && index < static_cast<int>(std::size(calls_[row]))) {
    calls_[row][index]->Increment();
  }
  call_duration_[row]->Observe(absl::ToDoubleSeconds(total));
}

Counter* AdapterMetrics::UpstreamCounter(int http_status, int code_slot,
                                         absl::string_view code_label) {
  std::atomic<Counter*>& cell =
      upstream_requests_[static_cast<std::size_t>(http_status) * (known_code_count_ + 2) +
                         static_cast<std::size_t>(code_slot)];
  Counter* counter = cell.load(std::memory_order_acquire);
  if (counter != nullptr) return counter;
  // First time for this pair: create it (two threads may race; both get a
  // counter in the registry, only one is kept, the other stays at zero).
  Counter* created = registry_->AddCounter(
      "osm_adapter_upstream_requests_total",
      "Upstream HTTP answers by status and OSM error code (\"\" for none, \"other\" for codes "
      "the adapter does not know).",
      {{"http_status", absl::StrCat(http_status)}, {"error_code", std::string(code_label)}});
  if (cell.compare_exchange_strong(counter, created, std::memory_order_acq_rel)) return created;
  return counter;
}

void AdapterMetrics::UpstreamAnswered(int http_status, absl::string_view error_code,
                                      absl::Duration elapsed) {
  upstream_duration_->Observe(absl::ToDoubleSeconds(elapsed));
  if (http_status < 0 || http_status >= kMaxHttpStatus) http_status = 0;
  int slot = known_code_count_;  // ""
  absl::string_view label;
  if (!error_code.empty()) {
    if (const OsmErrorCode* known = FindOsmErrorCode(error_code); known != nullptr) {
      slot = static_cast<int>(known - KnownOsmErrorCodes().data());
      label = known->code;
    } else {
      slot = known_code_count_ + 1;
      label = "other";
    }
  }
  UpstreamCounter(http_status, slot, label)->Increment();
}

void AdapterMetrics::UpstreamFailed(absl::string_view reason, absl::Duration elapsed) {
  upstream_duration_->Observe(absl::ToDoubleSeconds(elapsed));
  for (const auto& [name, counter] : failures_) {
    if (name == reason) {
      counter->Increment();
      return;
    }
  }
  // Anything else is a transport error.
  const absl::string_view other = Describe(AdapterReason::kUpstreamTransportError).name;
  for (const auto& [name, counter] : failures_) {
    if (name == other) counter->Increment();
  }
}

}  // namespace osm
