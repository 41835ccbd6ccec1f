#ifndef OSM_SERVER_BASE_TIMER_QUEUE_H_
#define OSM_SERVER_BASE_TIMER_QUEUE_H_

#include <cstdint>
#include <map>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "server/base/mutex.h"

namespace osm {

// Runs callbacks at given times, on one thread of its own. For what waits
// seconds, not microseconds (the watches' next polls): one thread serves
// every timer, whatever their number.
class TimerQueue {
 public:
  using Id = std::uint64_t;
  using Callback = absl::AnyInvocable<void() &&>;

  TimerQueue();
  // Stops the thread; callbacks not yet run are dropped, never run.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `callback` on the queue's thread at `when` (at once if it has
  // passed), after the callbacks due before it. Callbacks must not block.
  // The id is never 0.
  Id Schedule(absl::Time when, Callback callback);

  // Removes the timer. True if it had not started to run: it never will.
  // False if it ran, is running, or was never scheduled.
  bool Cancel(Id id);

 private:
  void Run();

  Mutex mu_;
  CondVar changed_;
  // By due time, then id: the order they run in.
  std::map<std::pair<absl::Time, Id>, Callback> due_ ABSL_GUARDED_BY(mu_);
  std::map<Id, absl::Time> when_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace osm

#endif  // OSM_SERVER_BASE_TIMER_QUEUE_H_
