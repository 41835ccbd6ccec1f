#include "server/base/timer_queue.h"

#include "absl/time/clock.h"

namespace osm {

TimerQueue::TimerQueue() : thread_([this] { Run(); }) {}

TimerQueue::~TimerQueue() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  changed_.NotifyAll();
  thread_.join();
}

TimerQueue::Id TimerQueue::Schedule(absl::Time when, Callback callback) {
  bool first;
  Id id;
  {
    MutexLock lock(&mu_);
    id = next_id_++;
    due_.emplace(std::make_pair(when, id), std::move(callback));
    when_.emplace(id, when);
    first = due_.begin()->first.second == id;
  }
  // Only a new earliest timer changes how long the thread sleeps.
  if (first) changed_.NotifyAll();
  return id;
}

bool TimerQueue::Cancel(Id id) {
  MutexLock lock(&mu_);
  auto it = when_.find(id);
  if (it == when_.end()) return false;
  due_.erase(std::make_pair(it->second, id));
  when_.erase(it);
  return true;
}

void TimerQueue::Run() {
  mu_.Lock();
  while (!stopping_) {
    if (due_.empty()) {
      changed_.Wait(&mu_, [this] {
        mu_.AssertHeld();
        return stopping_ || !due_.empty();
      });
      continue;
    }
    const absl::Time next = due_.begin()->first.first;
    if (next > absl::Now()) {
      const std::size_t size = due_.size();
      const Id first = due_.begin()->first.second;
      changed_.WaitUntil(&mu_, absl::ToChronoTime(next), [&] {
        mu_.AssertHeld();
        return stopping_ || due_.size() != size ||
               (!due_.empty() && due_.begin()->first.second != first);
      });
      continue;
    }
    auto node = due_.extract(due_.begin());
    when_.erase(node.key().second);
    Callback callback = std::move(node.mapped());
    mu_.Unlock();
    std::move(callback)();
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace osm
