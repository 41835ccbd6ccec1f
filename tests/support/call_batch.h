#ifndef OSM_TESTS_SUPPORT_CALL_BATCH_H_
#define OSM_TESTS_SUPPORT_CALL_BATCH_H_

#include <grpcpp/client_context.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/base/mutex.h"

namespace osm::testing {

// `count` Withdraw calls issued at once on gRPC's async API; the test waits
// for them. The destructor cancels what is still running and waits for
// every callback, so an assertion that returns early leaves no callback to
// run on a dead stack frame.
class CallBatch {
 public:
  // Call i gets `request(i)` (by default case "case-1", message "msg-<i>"),
  // the token `token` (none if empty) and a deadline `timeout` from now.
  CallBatch(huaweicloud::osm::v2::MessageService::Stub* stub, int count, absl::Duration timeout,
            const std::string& token = "batch-token-5d1e",
            std::function<huaweicloud::osm::v2::WithdrawRequest(int)> request = nullptr);
  ~CallBatch();
  CallBatch(const CallBatch&) = delete;
  CallBatch& operator=(const CallBatch&) = delete;

  // Waits for every call (at most `timeout`); returns how many were OK, or
  // -1 if some were still running.
  int WaitForAll(absl::Duration timeout = absl::Seconds(60));
  // Cancels call i (a client cancellation).
  void Cancel(std::size_t i);
  // Each call's status, once WaitForAll() returned.
  std::vector<grpc::Status> Statuses();
  // "CODE: message" of the first call that was not OK, or "".
  std::string FirstError();
  // How many callbacks ran (at most once per call: a second would count).
  int callbacks();
  std::size_t size() const { return calls_.size(); }

  // Call i's time from its start to its callback, once WaitForAll() returned.
  absl::Duration took(std::size_t i);
  // Call i's context (its server's trailing metadata, say) and response,
  // once WaitForAll() returned.
  const grpc::ClientContext& context(std::size_t i) const { return calls_[i]->context; }
  const huaweicloud::osm::v2::WithdrawResponse& response(std::size_t i) const {
    return calls_[i]->response;
  }

 private:
  struct Call {
    huaweicloud::osm::v2::WithdrawRequest request;
    huaweicloud::osm::v2::WithdrawResponse response;
    grpc::ClientContext context;
    grpc::Status status;
    absl::Time started;
    absl::Duration took;
  };
  std::vector<std::unique_ptr<Call>> calls_;
  Mutex mu_;
  CondVar changed_;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_CALL_BATCH_H_
