#ifndef OSM_SERVER_UPSTREAM_UPSTREAM_CLIENT_H_
#define OSM_SERVER_UPSTREAM_UPSTREAM_CLIENT_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "server/upstream/http_types.h"

namespace osm {

// The seam between the gRPC side and the HTTP side: starts upstream requests
// and reports their outcome asynchronously.
class UpstreamClient {
 public:
  // Receives the response, or a transport error: UNAVAILABLE (could not
  // connect, connection lost before a complete answer), DEADLINE_EXCEEDED
  // (the request's deadline passed), CANCELLED (Cancel() was called, or the
  // client is shutting down) or INTERNAL.
  using Callback = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;
  using TransferId = std::uint64_t;

  virtual ~UpstreamClient() = default;

  // Starts `request`. `done` runs exactly once and must not block. It may
  // run before Start() returns, on the calling thread: when the transfer
  // ends at once (its deadline already passed, the client is shutting down,
  // it could not be started, or it failed or was answered while Start() was
  // putting it on the wire). Otherwise it runs later, on one of the client's
  // threads or on a thread that is inside another Start() or Cancel(). The
  // returned id is never 0 and stays valid for Cancel() even after `done`
  // has run.
  virtual TransferId Start(HttpRequest request, Callback done) = 0;

  // Aborts the transfer if it is still running; its callback then receives
  // CANCELLED, possibly before Cancel() returns, on the calling thread.
  // Safe to call from any thread, at any time, more than once.
  virtual void Cancel(TransferId id) = 0;
};

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_UPSTREAM_CLIENT_H_
