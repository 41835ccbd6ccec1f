#ifndef OSM_SERVER_SERVICE_WATCH_CALL_H_
#define OSM_SERVER_SERVICE_WATCH_CALL_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <set>
#include <utility>

#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/base/mutex.h"
#include "server/base/timer_queue.h"
#include "server/osm/redaction.h"
#include "server/service/service_options.h"
#include "server/upstream/upstream_client.h"

namespace osm {

class WatchCall;

// The watches open now: their admission (--max_watches) and their end when
// the adapter shuts down.
class WatchRegistry {
 public:
  explicit WatchRegistry(int max_watches) : max_watches_(max_watches) {}

  // Adds `watch` unless max_watches are open (RESOURCE_EXHAUSTED) or the
  // registry is closed (UNAVAILABLE); the refusal's status otherwise OK.
  grpc::Status Admit(WatchCall* watch, absl::Duration retry_delay);
  void Remove(WatchCall* watch);
  // Refuses new watches, and asks each open one to end (WatchCall::EndSoon).
  void Close();

 private:
  const int max_watches_;
  Mutex mu_;
  std::set<WatchCall*> open_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// One WatchNewMessages stream: polls ListNewInstantMessages with the
// caller's credentials every interval, writes each batch of new messages
// with the marker to resume from, and ends at the caller's deadline or
// cancellation, on a permanent failure of a poll, or with UNAVAILABLE when
// the adapter shuts down (after writing what a poll in flight brings).
//
// States: waiting for the timer, polling (a transfer in flight), writing (a
// batch in flight to the caller), finished. At most one of them at a time,
// under `mu_`. Finish() is called once, never under `mu_`: from the timer
// thread, the upstream callback or OnWriteDone, and never while Poll() is
// inside UpstreamClient::Start() (the poll's callback then leaves its next
// step to Poll()), because OnDone deletes the reactor.
class WatchCall final
    : public grpc::ServerWriteReactor<huaweicloud::osm::v2::WatchNewMessagesResponse> {
 public:
  WatchCall(UpstreamClient* upstream, const ServiceOptions& options, TimerQueue* timers,
            WatchRegistry* registry, grpc::CallbackServerContext* context,
            const huaweicloud::osm::v2::WatchNewMessagesRequest* request);

  // In the handler: admission and validation, then the first poll.
  void Start();

  // The adapter is shutting down: end with UNAVAILABLE once what is in
  // flight has been written. Safe from any thread, at any time.
  void EndSoon();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  enum class State { kWaiting, kPolling, kWriting, kFinished };

  // What a finished poll leads to.
  struct Next {
    enum class Kind { kNothing, kWrite, kWait, kEnd };
    static Next Wait(absl::Duration delay) { return {Kind::kWait, grpc::Status::OK, delay}; }
    static Next End(grpc::Status status) {
      return {Kind::kEnd, std::move(status), absl::ZeroDuration()};
    }
    Kind kind = Kind::kNothing;
    grpc::Status status;
    absl::Duration delay;
  };
  // Takes the step; never under `mu_`.
  void Execute(Next next);

  void Poll();
  void OnPollDone(absl::StatusOr<HttpResponse> outcome, const CallSecrets& secrets);
  // Waits `delay`, then polls (or ends, if the watch must end by then).
  void WaitThenPoll(absl::Duration delay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The status to end with now, if the watch must end; OK otherwise.
  grpc::Status EndingStatus() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void End(grpc::Status status);
  absl::Duration Backoff() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  UpstreamClient* const upstream_;
  const ServiceOptions& options_;
  TimerQueue* const timers_;
  WatchRegistry* const registry_;
  grpc::CallbackServerContext* const context_;
  const huaweicloud::osm::v2::WatchNewMessagesRequest* const request_;
  const absl::Time started_;
  const absl::Time deadline_;
  absl::Duration interval_;
  bool admitted_ = false;

  Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kWaiting;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  TimerQueue::Id timer_ ABSL_GUARDED_BY(mu_) = 0;
  // The poll request; its marker is the last one OSM gave.
  huaweicloud::osm::v2::PollNewMessagesRequest poll_ ABSL_GUARDED_BY(mu_);
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  // Poll() is inside UpstreamClient::Start(): a poll that ends meanwhile
  // leaves its next step in `deferred_` for Poll() to take.
  bool starting_ ABSL_GUARDED_BY(mu_) = false;
  Next deferred_ ABSL_GUARDED_BY(mu_);
  huaweicloud::osm::v2::WatchNewMessagesResponse batch_ ABSL_GUARDED_BY(mu_);
  std::atomic<UpstreamClient::TransferId> transfer_id_{0};
  // Written before a poll's transfer starts, read in its callback.
  absl::Time poll_started_;
  // For OnDone.
  grpc::StatusCode code_ = grpc::StatusCode::UNKNOWN;
  std::string reason_;
  int polls_ = 0;
  int batches_ = 0;
};

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_WATCH_CALL_H_
