#ifndef OSM_SERVER_APP_LISTENER_SECURITY_H_
#define OSM_SERVER_APP_LISTENER_SECURITY_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Who may call the adapter: TLS on the gRPC listener, client certificates,
// and the rule that an adapter holding an access key is not left open.

namespace osm {

// The listener's TLS files (PEM). All empty: plaintext.
struct ListenerTlsFiles {
  // The server's certificate chain and its private key (unencrypted).
  std::string cert_file;
  std::string key_file;
  // When set, every caller must present a certificate issued by one of these
  // CAs (mutual TLS).
  std::string client_ca_file;
};

// gRPC credentials for the listener: TLS when `files.cert_file` is set,
// else insecure. The files are read and checked here (each parses, the key
// belongs to the certificate); errors name the file and the problem, never
// a file's contents. Which files go together (a key with the certificate,
// client CAs only with TLS) is for Validate() to check first.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const ListenerTlsFiles& files);

// True when only processes on this host can reach `listen`: a unix: or
// unix-abstract: socket, "localhost", or a loopback address (127.0.0.0/8,
// ::1).
bool IsLocalOnlyListenAddress(absl::string_view listen);

// An adapter that signs upstream requests lets whoever reaches it act as
// the account. OK when callers must present a client certificate, when
// `listen` is local-only, or when the operator stated that the network in
// front authorizes callers; otherwise FAILED_PRECONDITION saying which of
// the three to choose.
absl::Status CheckSigningListener(absl::string_view listen, bool client_certificates_required,
                                  bool trust_network_callers);

}  // namespace osm

#endif  // OSM_SERVER_APP_LISTENER_SECURITY_H_
