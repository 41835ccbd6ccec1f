#include "server/upstream/curl_upstream_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/upstream/curl_loop.h"
#include "server/upstream/tls_session_share.h"

namespace osm {

absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> CurlUpstreamClient::Create(
    const Options& options) {
  static std::once_flag global_init;
  static CURLcode init_result = CURLE_OK;
  std::call_once(global_init, [] { init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_result != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(init_result)));
  }
  if (options.loop_threads < 1) return absl::InvalidArgumentError("loop_threads must be >= 1");
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be >= 1");
  }
  CurlLoop::Options loop_options;
  loop_options.easy.scheme = options.scheme;
  loop_options.easy.connect_timeout = options.connect_timeout;
  loop_options.easy.ca_file = options.ca_file;
  loop_options.easy.http2 = options.http2;
  loop_options.retry = RetryPolicy(options.max_attempts, options.retry_backoff);
  loop_options.connections_gauge = options.connections_gauge;
  loop_options.retries_counter = options.retries_counter;
  if (options.scheme == "https") {
    absl::StatusOr<std::shared_ptr<TlsSessionShare>> share = TlsSessionShare::Create();
    if (!share.ok()) return share.status();
    loop_options.tls_sessions = *std::move(share);
  }
  const int loop_count = std::min(options.loop_threads, options.max_connections);
  std::vector<std::unique_ptr<CurlLoop>> loops;
  for (int i = 0; i < loop_count; ++i) {
    // Each loop gets its share of the connection limit.
    loop_options.max_connections =
        options.max_connections / loop_count + (i < options.max_connections % loop_count ? 1 : 0);
    absl::StatusOr<std::unique_ptr<CurlLoop>> loop = CurlLoop::Create(loop_options);
    if (!loop.ok()) return loop.status();
    loops.push_back(*std::move(loop));
  }
  return std::unique_ptr<CurlUpstreamClient>(
      new CurlUpstreamClient(std::move(loops), options.spread_above_load));
}

CurlUpstreamClient::CurlUpstreamClient(std::vector<std::unique_ptr<CurlLoop>> loops,
                                       int spread_above_load)
    : loops_(std::move(loops)), spread_above_load_(spread_above_load) {}

CurlUpstreamClient::~CurlUpstreamClient() {
  for (auto& loop : loops_) loop->Stop();
}

UpstreamClient::TransferId CurlUpstreamClient::Start(HttpRequest request, Callback done) {
  // The first loop with fewer than `spread_above_load_` transfers in flight
  // takes it: at moderate load every call goes to one loop, whose thread
  // stays warm and whose connections stay in use, and one thread wakes per
  // answer instead of several taking turns. Beyond that the least loaded
  // loop (the first on a tie) takes it, and the loops share the work. The id
  // names its loop (id % loops) for Cancel.
  std::size_t chosen = 0;
  int least = loops_[0]->load();
  for (std::size_t i = 1; i < loops_.size() && least >= spread_above_load_; ++i) {
    if (const int load = loops_[i]->load(); load < least) {
      least = load;
      chosen = i;
    }
  }
  const TransferId id = next_id_.fetch_add(1, std::memory_order_relaxed) * loops_.size() + chosen;
  auto transfer = std::make_unique<CurlTransfer>();
  transfer->id = id;
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  loops_[chosen]->Submit(LoopCommand{LoopCommand::Kind::kStart, id, std::move(transfer)});
  return id;
}

void CurlUpstreamClient::Cancel(TransferId id) {
  loops_[id % loops_.size()]->Submit(LoopCommand{LoopCommand::Kind::kCancel, id, nullptr});
}

}  // namespace osm
