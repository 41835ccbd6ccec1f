#ifndef OSM_CLIENT_UNARY_CALL_H_
#define OSM_CLIENT_UNARY_CALL_H_

// How the client library makes one unary call of MessageService, blocking or
// with a callback; private to client/ (WithdrawClient and MessageClient).

#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "osm/client/withdraw_error_details.h"

// ThreadSanitizer's annotations: from its runtime in a -fsanitize=thread
// build, null (weak) in any other.
extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace osm::client::internal {

using Stub = huaweicloud::osm::v2::MessageService::Stub;

// Debian's gRPC is not built with ThreadSanitizer, which therefore cannot
// see how gRPC orders what it hands between threads. These two state one
// such guarantee where it is used (as server/base/hand_off.h does for the
// server): what a thread did before HandOffSent(key) happens before what
// another does after HandOffReceived(key). No-ops outside TSan builds.
inline void HandOffSent(const void* key) {
  if (__tsan_release != nullptr) __tsan_release(const_cast<void*>(key));
}
inline void HandOffReceived(const void* key) {
  if (__tsan_acquire != nullptr) __tsan_acquire(const_cast<void*>(key));
}

// A stub's blocking method, e.g. &Stub::Withdraw.
template <typename Request, typename Response>
using BlockingMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

// A stub's callback method, e.g. &Stub::async::Withdraw.
template <typename Request, typename Response>
using CallbackMethod = void (Stub::async::*)(grpc::ClientContext*, const Request*, Response*,
                                             std::function<void(grpc::Status)>);

template <typename Response>
using ResultCallback = absl::AnyInvocable<void(absl::StatusOr<Response>) &&>;

// The deadline, and the credentials unless null.
inline void PrepareContext(grpc::ClientContext& context, absl::Time deadline,
                           const std::shared_ptr<grpc::CallCredentials>& credentials) {
  context.set_deadline(absl::ToChronoTime(deadline));
  if (credentials != nullptr) context.set_credentials(credentials);
}

// Calls `method` and waits for its answer; a non-OK status keeps its details
// (ToAbslStatus).
template <typename Request, typename Response>
absl::StatusOr<Response> CallBlocking(Stub& stub, BlockingMethod<Request, Response> method,
                                      const Request& request, absl::Time deadline,
                                      const std::shared_ptr<grpc::CallCredentials>& credentials) {
  grpc::ClientContext context;
  PrepareContext(context, deadline, credentials);
  Response response;
  const grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

// Starts `method` and returns at once; `done` runs once, on a gRPC thread,
// with what CallBlocking would have returned.
template <typename Request, typename Response>
void CallAsync(Stub& stub, CallbackMethod<Request, Response> method, const Request& request,
               absl::Time deadline, const std::shared_ptr<grpc::CallCredentials>& credentials,
               ResultCallback<Response> done) {
  // Everything the call uses lives until its completion callback, which
  // gRPC runs exactly once.
  struct Call {
    // First, so destroyed last: whatever `done` holds outlives the context
    // (and its reference to the channel).
    ResultCallback<Response> done;
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto* call = new Call;
  call->request = request;
  call->done = std::move(done);
  PrepareContext(call->context, deadline, credentials);
  // gRPC runs the callback on one of its threads, after the call: an
  // ordering inside its core.
  HandOffSent(call);
  (stub.async()->*method)(&call->context, &call->request, &call->response,
                          [call](grpc::Status status) {
                            HandOffReceived(call);
                            std::unique_ptr<Call> owned(call);
                            if (status.ok()) {
                              std::move(owned->done)(std::move(owned->response));
                            } else {
                              std::move(owned->done)(ToAbslStatus(status));
                            }
                          });
}

}  // namespace osm::client::internal

#endif  // OSM_CLIENT_UNARY_CALL_H_
