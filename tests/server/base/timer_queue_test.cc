#include "server/base/timer_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/base/mutex.h"

namespace osm {
namespace {

using ::testing::ElementsAre;

// Records the order callbacks ran in.
class Recorder {
 public:
  TimerQueue::Callback Record(int value) {
    return [this, value] {
      {
        MutexLock lock(&mu_);
        seen_.push_back(value);
      }
      changed_.NotifyAll();
    };
  }
  // Waits until `count` callbacks have run; what they recorded.
  std::vector<int> WaitFor(std::size_t count) {
    MutexLock lock(&mu_);
    changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + absl::Seconds(10)), [&] {
      mu_.AssertHeld();
      return seen_.size() >= count;
    });
    return seen_;
  }

 private:
  Mutex mu_;
  CondVar changed_;
  std::vector<int> seen_ ABSL_GUARDED_BY(mu_);
};

TEST(TimerQueueTest, RunsCallbacksInTheOrderOfTheirTimes) {
  Recorder recorder;  // outlives the queue's thread
  TimerQueue timers;
  const absl::Time now = absl::Now();
  timers.Schedule(now + absl::Milliseconds(60), recorder.Record(3));
  timers.Schedule(now + absl::Milliseconds(20), recorder.Record(1));
  timers.Schedule(now + absl::Milliseconds(40), recorder.Record(2));
  // Due already: runs first, without waiting for the others.
  timers.Schedule(now - absl::Seconds(1), recorder.Record(0));
  EXPECT_THAT(recorder.WaitFor(4), ElementsAre(0, 1, 2, 3));
}

TEST(TimerQueueTest, SameTimeRunsInScheduleOrder) {
  Recorder recorder;  // outlives the queue's thread
  TimerQueue timers;
  const absl::Time when = absl::Now() + absl::Milliseconds(10);
  for (int i = 0; i < 5; ++i) timers.Schedule(when, recorder.Record(i));
  EXPECT_THAT(recorder.WaitFor(5), ElementsAre(0, 1, 2, 3, 4));
}

TEST(TimerQueueTest, AnEarlierTimerWakesTheSleepingThread) {
  Recorder recorder;  // outlives the queue's thread
  TimerQueue timers;
  timers.Schedule(absl::Now() + absl::Hours(1), recorder.Record(1));
  const absl::Time start = absl::Now();
  timers.Schedule(absl::Now(), recorder.Record(0));
  EXPECT_THAT(recorder.WaitFor(1), ElementsAre(0));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(TimerQueueTest, CancelledTimersNeverRun) {
  Recorder recorder;  // outlives the queue's thread
  TimerQueue timers;
  const TimerQueue::Id cancelled =
      timers.Schedule(absl::Now() + absl::Milliseconds(20), recorder.Record(1));
  EXPECT_NE(cancelled, 0u);
  EXPECT_TRUE(timers.Cancel(cancelled));
  EXPECT_FALSE(timers.Cancel(cancelled));
  timers.Schedule(absl::Now() + absl::Milliseconds(40), recorder.Record(2));
  EXPECT_THAT(recorder.WaitFor(1), ElementsAre(2));
  EXPECT_FALSE(timers.Cancel(0));
}

TEST(TimerQueueTest, CancelAfterRunningIsFalse) {
  TimerQueue timers;
  absl::Notification ran;
  const TimerQueue::Id id = timers.Schedule(absl::Now(), [&ran] { ran.Notify(); });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(timers.Cancel(id));
}

TEST(TimerQueueTest, CallbacksMaySchedule) {
  Recorder recorder;  // outlives the queue's thread
  TimerQueue timers;
  auto record_first = recorder.Record(1);
  timers.Schedule(absl::Now(), [&timers, &recorder, first = std::move(record_first)]() mutable {
    std::move(first)();
    timers.Schedule(absl::Now(), recorder.Record(2));
  });
  EXPECT_THAT(recorder.WaitFor(2), ElementsAre(1, 2));
}

TEST(TimerQueueTest, DestructionDropsPendingTimers) {
  bool ran = false;
  {
    TimerQueue timers;
    timers.Schedule(absl::Now() + absl::Hours(1), [&ran] { ran = true; });
  }
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace osm
