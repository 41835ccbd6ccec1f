#ifndef OSM_SERVER_UPSTREAM_TLS_SESSION_SHARE_H_
#define OSM_SERVER_UPSTREAM_TLS_SESSION_SHARE_H_

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "server/upstream/curl_handles.h"

namespace osm {

// TLS sessions shared by the easy handles of every loop. Each loop's multi
// handle keeps its own connections; with this, a new connection (another
// loop's, or one after the upstream closed the last) resumes an earlier TLS
// session instead of making a full handshake.
class TlsSessionShare {
 public:
  static absl::StatusOr<std::shared_ptr<TlsSessionShare>> Create();
  TlsSessionShare(const TlsSessionShare&) = delete;
  TlsSessionShare& operator=(const TlsSessionShare&) = delete;

  CURLSH* get() const { return share_.get(); }

 private:
  TlsSessionShare() = default;

  // curl brackets every use of shared data with these, from any loop thread.
  static void Lock(CURL* easy, curl_lock_data data, curl_lock_access access, void* self);
  static void Unlock(CURL* easy, curl_lock_data data, void* self);

  std::mutex mutexes_[CURL_LOCK_DATA_LAST];
  // Declared after the mutexes: cleaned up before them.
  CurlShare share_;
};

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_TLS_SESSION_SHARE_H_
