#include "tests/support/fake_upstream_client.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace osm::testing {

FakeUpstreamClient::~FakeUpstreamClient() {
  // Like the real client: what is still running ends with CANCELLED.
  std::vector<Callback> pending;
  {
    MutexLock lock(&mu_);
    for (Transfer& transfer : transfers_) {
      if (transfer.done) pending.push_back(std::move(transfer.done));
    }
  }
  for (Callback& done : pending) std::move(done)(absl::CancelledError("the client is gone"));
}

void FakeUpstreamClient::CompleteInsideStart(absl::StatusOr<HttpResponse> outcome) {
  MutexLock lock(&mu_);
  inside_start_ = std::move(outcome);
}

UpstreamClient::TransferId FakeUpstreamClient::Start(HttpRequest request, Callback done) {
  std::optional<absl::StatusOr<HttpResponse>> now;
  TransferId id;
  {
    MutexLock lock(&mu_);
    id = transfers_.size() + 1;
    now = inside_start_;
    transfers_.push_back(Transfer{id, std::move(request), now ? nullptr : std::move(done)});
    changed_.NotifyAll();
  }
  if (now) std::move(done)(*std::move(now));
  return id;
}

void FakeUpstreamClient::Cancel(TransferId id) {
  Callback done;
  {
    MutexLock lock(&mu_);
    cancels_.push_back(id);
    if (id >= 1 && id <= transfers_.size()) done = std::move(transfers_[id - 1].done);
    changed_.NotifyAll();
  }
  if (done) std::move(done)(absl::CancelledError("cancelled by the caller"));
}

bool FakeUpstreamClient::WaitForStarts(std::size_t n, absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return transfers_.size() >= n;
  });
}

bool FakeUpstreamClient::WaitForCancels(std::size_t n, absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return cancels_.size() >= n;
  });
}

std::vector<HttpRequest> FakeUpstreamClient::requests() {
  MutexLock lock(&mu_);
  std::vector<HttpRequest> out;
  for (const Transfer& transfer : transfers_) out.push_back(transfer.request);
  return out;
}

bool FakeUpstreamClient::Complete(std::size_t index, absl::StatusOr<HttpResponse> outcome) {
  Callback done;
  {
    MutexLock lock(&mu_);
    if (index >= transfers_.size()) return false;
    done = std::move(transfers_[index].done);
  }
  if (!done) return false;
  std::move(done)(std::move(outcome));
  return true;
}

std::vector<UpstreamClient::TransferId> FakeUpstreamClient::cancels() {
  MutexLock lock(&mu_);
  return cancels_;
}

UpstreamClient::TransferId FakeUpstreamClient::id(std::size_t index) {
  MutexLock lock(&mu_);
  return transfers_.at(index).id;
}

}  // namespace osm::testing
