#include "server/upstream/retry_policy.h"

namespace osm {

std::optional<absl::Time> RetryPolicy::NextAttempt(int attempts, absl::Time now,
                                                   absl::Time deadline, double jitter) const {
  if (attempts < 1 || attempts >= max_attempts_) return std::nullopt;
  const absl::Duration step = backoff_ * (1 << (attempts - 1));
  const absl::Time ready = now + step * jitter;
  if (ready + step >= deadline) return std::nullopt;
  return ready;
}

}  // namespace osm
