#include "server/upstream/retry_policy.h"

#include "gtest/gtest.h"

namespace osm {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'750'000'000);

TEST(RetryPolicyTest, ExponentialBackoffWithJitter) {
  const RetryPolicy policy(4, absl::Milliseconds(50));
  const absl::Time far = kNow + absl::Hours(1);
  EXPECT_EQ(policy.NextAttempt(1, kNow, far, 1.0), kNow + absl::Milliseconds(50));
  EXPECT_EQ(policy.NextAttempt(2, kNow, far, 1.0), kNow + absl::Milliseconds(100));
  EXPECT_EQ(policy.NextAttempt(3, kNow, far, 1.0), kNow + absl::Milliseconds(200));
  EXPECT_EQ(policy.NextAttempt(2, kNow, far, 0.5), kNow + absl::Milliseconds(50));
  EXPECT_EQ(policy.NextAttempt(2, kNow, far, 1.5), kNow + absl::Milliseconds(150));
}

TEST(RetryPolicyTest, NoMoreThanMaxAttempts) {
  const RetryPolicy policy(3, absl::Milliseconds(50));
  const absl::Time far = kNow + absl::Hours(1);
  EXPECT_TRUE(policy.NextAttempt(2, kNow, far, 1.0).has_value());
  EXPECT_FALSE(policy.NextAttempt(3, kNow, far, 1.0).has_value());
  EXPECT_FALSE(policy.NextAttempt(0, kNow, far, 1.0).has_value());
}

// Only while the deadline leaves a fair chance: a further step after the
// next attempt starts.
TEST(RetryPolicyTest, OnlyWhileTheDeadlineLeavesRoom) {
  const RetryPolicy policy(3, absl::Milliseconds(50));
  // Attempt 2 would start at +50 ms and needs until +100 ms.
  EXPECT_TRUE(policy.NextAttempt(1, kNow, kNow + absl::Milliseconds(101), 1.0).has_value());
  EXPECT_FALSE(policy.NextAttempt(1, kNow, kNow + absl::Milliseconds(100), 1.0).has_value());
  EXPECT_FALSE(policy.NextAttempt(1, kNow, kNow, 1.0).has_value());
}

}  // namespace
}  // namespace osm
