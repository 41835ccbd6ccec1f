#ifndef OSM_TESTS_SUPPORT_FAKE_UPSTREAM_CLIENT_H_
#define OSM_TESTS_SUPPORT_FAKE_UPSTREAM_CLIENT_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/base/mutex.h"
#include "server/upstream/upstream_client.h"

namespace osm::testing {

// An UpstreamClient that sends nothing. It records every request; the test
// completes each transfer when it chooses (Complete), or has every transfer
// complete inside Start() itself, as the real client may
// (CompleteInsideStart). Cancel() completes a pending transfer with
// CANCELLED, inside Cancel(), as the real client may. Callbacks always run
// without the fake's lock held.
class FakeUpstreamClient final : public UpstreamClient {
 public:
  ~FakeUpstreamClient() override;

  // From now on, Start() runs `done` with `outcome` before it returns.
  void CompleteInsideStart(absl::StatusOr<HttpResponse> outcome);

  TransferId Start(HttpRequest request, Callback done) override;
  void Cancel(TransferId id) override;

  // Waits until `n` transfers were started; false on time-out.
  bool WaitForStarts(std::size_t n, absl::Duration timeout = absl::Seconds(10));
  // The requests started so far, in order.
  std::vector<HttpRequest> requests();
  // Completes the `index`-th transfer (0-based) with `outcome`; false if it
  // had completed already (or was cancelled).
  bool Complete(std::size_t index, absl::StatusOr<HttpResponse> outcome);
  // Waits until Cancel() was called `n` times; false on time-out.
  bool WaitForCancels(std::size_t n, absl::Duration timeout = absl::Seconds(10));
  // The ids Cancel() was called with, in order.
  std::vector<TransferId> cancels();
  // The id of the `index`-th transfer.
  TransferId id(std::size_t index);

 private:
  struct Transfer {
    TransferId id;
    HttpRequest request;
    Callback done;  // empty once completed
  };

  Mutex mu_;
  CondVar changed_;
  std::vector<Transfer> transfers_ ABSL_GUARDED_BY(mu_);
  std::vector<TransferId> cancels_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::StatusOr<HttpResponse>> inside_start_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_FAKE_UPSTREAM_CLIENT_H_
