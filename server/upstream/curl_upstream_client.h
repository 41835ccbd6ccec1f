#ifndef OSM_SERVER_UPSTREAM_CURL_UPSTREAM_CLIENT_H_
#define OSM_SERVER_UPSTREAM_CURL_UPSTREAM_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/observability/metrics.h"
#include "server/upstream/upstream_client.h"

namespace osm {

class CurlLoop;

// An UpstreamClient on libcurl's multi interface: a few event loops
// (CurlLoop), each a thread owning one multi handle driven by epoll and
// curl_multi_socket_action, so a wake-up costs O(ready sockets) however many
// transfers are in flight. This class only chooses the loop: the first loop
// takes every transfer until it has Options::spread_above_load in flight, so
// that at moderate load one thread wakes per answer and its connections stay
// warm; beyond, the least loaded loop takes it.
class CurlUpstreamClient final : public UpstreamClient {
 public:
  struct Options {
    // "http" or "https": the only protocol transfers may use.
    std::string scheme = "https";
    // Event loops; fewer if `max_connections` is smaller, since each loop
    // needs a connection of its own.
    int loop_threads = 2;
    // Open connections to the upstream, over all loops; further transfers
    // wait for a free connection (the wait counts towards their deadline).
    int max_connections = 4096;
    absl::Duration connect_timeout = absl::Seconds(10);
    // Verified TLS: extra trusted CA bundle (PEM), or empty for the system's.
    std::string ca_file;
    // Use HTTP/2, multiplexing many transfers on each connection: over TLS
    // negotiated with ALPN (falling back to HTTP/1.1), over plain HTTP with
    // prior knowledge (h2c; broken for reused connections in libcurl 7.88,
    // so the adapter never asks for it). When false, HTTP/1.1 only.
    bool http2 = false;
    // Optional: counts the connections open to the upstream.
    Gauge* connections_gauge = nullptr;
    // RetryPolicy: attempts in all for a transfer that fails before
    // anything was sent, and the first backoff step.
    int max_attempts = 3;
    absl::Duration retry_backoff = absl::Milliseconds(50);
    // Optional: counts the retries.
    Counter* retries_counter = nullptr;
    // A loop takes every new transfer until it has this many in flight;
    // beyond, the least loaded loop does (see Start()).
    int spread_above_load = 32;
  };

  static absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> Create(const Options& options);

  // Cancels what is still running (callbacks receive CANCELLED) and joins
  // the loop threads.
  ~CurlUpstreamClient() override;

  TransferId Start(HttpRequest request, Callback done) override;
  void Cancel(TransferId id) override;

  // The loops actually running (Options::loop_threads, capped).
  int loop_count() const { return static_cast<int>(loops_.size()); }

 private:
  CurlUpstreamClient(std::vector<std::unique_ptr<CurlLoop>> loops, int spread_above_load);

  std::vector<std::unique_ptr<CurlLoop>> loops_;
  const int spread_above_load_;
  std::atomic<TransferId> next_id_{1};
};

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_CURL_UPSTREAM_CLIENT_H_
