#ifndef OSM_SERVER_UPSTREAM_RETRY_POLICY_H_
#define OSM_SERVER_UPSTREAM_RETRY_POLICY_H_

#include <optional>

#include "absl/time/time.h"

namespace osm {

// When to try a transfer again that failed before anything was sent
// (connection refused, DNS, TLS handshake): the upstream cannot have seen
// it, so even a call that is not idempotent may be repeated. Nothing else is
// ever retried: the upstream may have acted on it.
//
// Attempts are spaced by an exponential backoff, `backoff` times 2^(n-1)
// before attempt n+1, with full jitter in [0.5, 1.5) of that step, and made
// only while the deadline leaves a fair chance: a further step after the
// next attempt starts.
class RetryPolicy {
 public:
  RetryPolicy(int max_attempts, absl::Duration backoff)
      : max_attempts_(max_attempts), backoff_(backoff) {}

  // When the next attempt may start, after `attempts` have failed before
  // sending; nullopt when there is none. `jitter` is uniform in [0.5, 1.5).
  std::optional<absl::Time> NextAttempt(int attempts, absl::Time now, absl::Time deadline,
                                        double jitter) const;

  int max_attempts() const { return max_attempts_; }

 private:
  int max_attempts_;
  absl::Duration backoff_;
};

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_RETRY_POLICY_H_
