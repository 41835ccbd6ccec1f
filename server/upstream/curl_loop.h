#ifndef OSM_SERVER_UPSTREAM_CURL_LOOP_H_
#define OSM_SERVER_UPSTREAM_CURL_LOOP_H_

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/base/mutex.h"
#include "server/observability/metrics.h"
#include "server/upstream/curl_handles.h"
#include "server/upstream/curl_transfer.h"
#include "server/upstream/retry_policy.h"
#include "server/upstream/tls_session_share.h"

namespace osm {

// What a thread asks of a loop: start a transfer, or cancel one.
struct LoopCommand {
  enum class Kind { kNone, kStart, kCancel };
  Kind kind = Kind::kNone;
  UpstreamClient::TransferId id = 0;
  std::unique_ptr<CurlTransfer> transfer;  // kStart only
};

// The commands handed over to a loop, and whether the loop sleeps, stops or
// has exited: the state that submitting threads and the loop thread share.
// A lock of its own, so that a submitter never waits for the loop's work.
class LoopInbox {
 public:
  // Queues `command` (which is then left empty) unless the loop has exited.
  // Returns false if it has: the command is untouched. `wake` becomes true
  // when the loop sleeps and this submitter must wake it (only one does).
  bool Post(LoopCommand& command, bool& wake);
  // The loop, before it waits: true (and the loop counts as asleep) when
  // nothing is queued and it is not stopping.
  bool MaySleep();
  // The loop, after it woke: moves the queued commands into `commands`.
  // Returns true when the loop must stop; from then on it counts as
  // exited, and Post() refuses.
  bool TakeAll(std::vector<LoopCommand>& commands);
  void RequestStop();
  bool stopping();

 private:
  Mutex mu_;
  std::vector<LoopCommand> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The loop thread has returned: commands are run where they are submitted.
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  // The loop is in (or about to enter) epoll_wait with nothing queued.
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
};

// One event loop: a libcurl multi handle, the epoll set its sockets live in,
// a timerfd for curl's timers, deadlines and retry backoffs, and the thread
// that waits on them.
//
// Commands reach the loop by the "run here or hand over" protocol
// (Submit()), the one place where the threads meet:
//   - Run here: while the loop is lightly loaded (fewer than
//     kRunHereBelowLoad transfers in flight) and its lock is free, the
//     submitting thread takes the lock and does the work itself, so a
//     request is on the wire without waking the loop (the latency of a lone
//     call).
//   - Hand over: otherwise the command goes into the inbox, and the loop is
//     woken only if it sleeps. A busy loop is awake anyway and runs the
//     inbox in one batch, without the threads contending for its lock.
//   - Whoever holds the lock when transfers finish runs their callbacks,
//     after releasing it: the loop thread, or a submitting thread that ran
//     here. So a callback may run inside Start() or Cancel(), its own or
//     another transfer's (the UpstreamClient contract says so).
//   - Once the loop thread has exited (Stop()), submitters run here, under
//     the lock: a start completes at once with CANCELLED.
// All libcurl state is guarded by `mu_`.
class CurlLoop {
 public:
  struct Options {
    EasyHandleOptions easy;  // without the socket callbacks: the loop sets those
    // Connections this loop may open; further transfers wait for one.
    int max_connections = 4096;
    RetryPolicy retry{3, absl::Milliseconds(50)};
    // Optional.
    Gauge* connections_gauge = nullptr;
    Counter* retries_counter = nullptr;
    std::shared_ptr<TlsSessionShare> tls_sessions;
  };

  // Below this many transfers in flight a submitter may run here.
  static constexpr int kRunHereBelowLoad = 4;

  static absl::StatusOr<std::unique_ptr<CurlLoop>> Create(Options options);
  // Stop()s, then frees libcurl's objects.
  ~CurlLoop();
  CurlLoop(const CurlLoop&) = delete;
  CurlLoop& operator=(const CurlLoop&) = delete;

  // Runs `command` here or hands it over (see the class comment).
  // Thread-safe.
  void Submit(LoopCommand command);
  // Transfers submitted and not yet called back: how busy the loop is.
  int load() const { return load_.load(std::memory_order_relaxed); }
  // Makes the loop cancel what is running and return; joins it. Called by
  // the owner only.
  void Stop();

 private:
  // A finished transfer whose callback is still to run.
  struct Finished {
    UpstreamClient::Callback done;
    absl::StatusOr<HttpResponse> outcome;
  };
  using DeadlineEntry = std::pair<absl::Time, UpstreamClient::TransferId>;
  using DeadlineQueue =
      std::priority_queue<DeadlineEntry, std::vector<DeadlineEntry>, std::greater<>>;

  explicit CurlLoop(Options options) : options_(std::move(options)) {}
  absl::Status Init();
  void Run();
  // Everything below runs with `mu_` held.
  void Execute(LoopCommand& command, bool stopping) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartTransfer(std::unique_ptr<CurlTransfer> transfer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelTransfer(UpstreamClient::TransferId id, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lets curl act on expired timers, collects finished transfers, expires
  // overdue ones, starts due retries and re-arms the timer.
  void Settle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunCurlTimers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadCompletions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ExpireTransfers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmTimer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a transfer that failed before sending anything off curl and
  // schedules another attempt, if the retry policy gives one.
  bool ScheduleRetry(std::unique_ptr<CurlTransfer>& transfer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the retries that are due; true if any was.
  bool StartDueRetries(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the transfer from curl and keeps its easy handle for reuse.
  void DetachFromCurl(CurlTransfer& transfer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Detaches the transfer from curl and queues its callback.
  void Complete(std::unique_ptr<CurlTransfer> transfer, absl::StatusOr<HttpResponse> outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CurlEasy TakeEasyHandle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchSocket(int fd, std::uint32_t events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Wake();
  // Releases `mu_`, then runs the callbacks of what finished meanwhile.
  void UnlockAndRunCallbacks() ABSL_UNLOCK_FUNCTION(mu_);

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* loop, void* socket_data);
  static int OnTimer(CURLM* multi, long timeout_ms, void* loop);
  static curl_socket_t OnOpenSocket(void* loop, curlsocktype purpose, curl_sockaddr* address);
  static int OnCloseSocket(void* loop, curl_socket_t fd);

  const Options options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;
  std::thread thread_;
  LoopInbox inbox_;

  Mutex mu_;
  // Freed explicitly by the destructor, while every member that curl's
  // callbacks reach is still alive.
  CurlMulti multi_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<UpstreamClient::TransferId, std::unique_ptr<CurlTransfer>> active_
      ABSL_GUARDED_BY(mu_);
  std::vector<CurlEasy> idle_easy_ ABSL_GUARDED_BY(mu_);
  std::vector<Finished> finished_ ABSL_GUARDED_BY(mu_);
  // What curl asked for with its timer callback.
  absl::Time curl_timer_due_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // What the timerfd is armed for.
  absl::Time timer_armed_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Every transfer's deadline, earliest first, enforced here as well as by
  // curl: curl 7.88 never times out a transfer that is still queued for a
  // connection. Entries of finished transfers are skipped when they surface.
  DeadlineQueue deadlines_ ABSL_GUARDED_BY(mu_);
  // curl's sockets in the epoll set. A socket that curl stops watching (an
  // idle keep-alive connection) stays registered, so the next transfer on it
  // usually needs no epoll_ctl at all; if it reports an event meanwhile, it
  // is removed then.
  struct Socket {
    std::uint32_t events = 0;  // registered for
    bool watched = false;      // curl wants to hear about it
  };
  absl::flat_hash_map<int, Socket> sockets_ ABSL_GUARDED_BY(mu_);
  // Transfers waiting to be tried again, and when.
  absl::flat_hash_map<UpstreamClient::TransferId, std::unique_ptr<CurlTransfer>> waiting_
      ABSL_GUARDED_BY(mu_);
  DeadlineQueue retries_ ABSL_GUARDED_BY(mu_);
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
  // Transfers submitted whose callbacks have not run yet.
  std::atomic<int> load_{0};
};

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_CURL_LOOP_H_
