#include "server/upstream/tls_session_share.h"

namespace osm {

absl::StatusOr<std::shared_ptr<TlsSessionShare>> TlsSessionShare::Create() {
  std::shared_ptr<TlsSessionShare> share(new TlsSessionShare());
  share->share_.reset(curl_share_init());
  CURLSH* raw = share->share_.get();
  if (raw == nullptr) return absl::InternalError("curl_share_init failed");
  if (curl_share_setopt(raw, CURLSHOPT_LOCKFUNC, &TlsSessionShare::Lock) != CURLSHE_OK ||
      curl_share_setopt(raw, CURLSHOPT_UNLOCKFUNC, &TlsSessionShare::Unlock) != CURLSHE_OK ||
      curl_share_setopt(raw, CURLSHOPT_USERDATA, share.get()) != CURLSHE_OK ||
      curl_share_setopt(raw, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
    return absl::InternalError("cannot share TLS sessions (curl_share_setopt)");
  }
  return share;
}

void TlsSessionShare::Lock(CURL* /*easy*/, curl_lock_data data, curl_lock_access /*access*/,
                           void* self) {
  static_cast<TlsSessionShare*>(self)->mutexes_[data].lock();
}

void TlsSessionShare::Unlock(CURL* /*easy*/, curl_lock_data data, void* self) {
  static_cast<TlsSessionShare*>(self)->mutexes_[data].unlock();
}

}  // namespace osm
