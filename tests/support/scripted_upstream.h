#ifndef OSM_TESTS_SUPPORT_SCRIPTED_UPSTREAM_H_
#define OSM_TESTS_SUPPORT_SCRIPTED_UPSTREAM_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/mutex.h"

// OpenSSL's types, without its headers.
struct ssl_st;
struct ssl_ctx_st;

namespace osm::testing {

// One HTTP/1.1 request as it arrived on the wire.
struct RecordedRequest {
  std::string method;
  std::string target;  // the request-target, exactly as sent
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as sent
  std::string body;

  // The first value of header `name` (case-insensitive), if any.
  std::optional<std::string> Header(absl::string_view name) const;
  int HeaderCount(absl::string_view name) const;
};

// The connection a handler answers on. Every method may be called from the
// handler only.
class UpstreamExchange {
 public:
  const RecordedRequest& request() const { return request_; }

  // A complete response with Content-Length; the connection stays open.
  void Respond(int status, absl::string_view body,
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Raw bytes, for malformed or partial answers. False once the peer is gone.
  bool Write(absl::string_view bytes);
  // Closes the connection (FIN) after the handler returns.
  void Close();
  // Resets the connection (RST) at once.
  void Reset();
  // Waits until the client closes the connection; false on time-out.
  bool WaitForPeerClose(absl::Duration timeout);

 private:
  friend class ScriptedUpstream;
  UpstreamExchange(int fd, ssl_st* tls, RecordedRequest request)
      : fd_(fd), tls_(tls), request_(std::move(request)) {}
  int fd_;
  ssl_st* tls_;  // null in the clear
  RecordedRequest request_;
  bool closed_ = false;
};

// What a ScriptedUpstream serves HTTPS with.
struct UpstreamTls {
  std::string cert_pem;  // the server's certificate (chain), PEM
  std::string key_pem;   // its private key, PEM
};

// A real HTTP/1.1 server on 127.0.0.1 and a free port, for tests: it records
// every request and lets the test script each answer. One thread per
// connection; keep-alive supported.
class ScriptedUpstream {
 public:
  using Handler = std::function<void(UpstreamExchange&)>;

  // The default handler answers 200 {"error_code":"","error_msg":""} with
  // X-Request-Id: req-<n>.
  ScriptedUpstream();
  // The same over TLS (any version OpenSSL offers, no ALPN: HTTP/1.1), with
  // session resumption. base_url() is then https://127.0.0.1:<port>.
  explicit ScriptedUpstream(const UpstreamTls& tls);
  // Closes every connection and joins every thread.
  ~ScriptedUpstream();

  int port() const { return port_; }
  std::string base_url() const;

  void SetHandler(Handler handler);

  std::vector<RecordedRequest> requests() const;
  int request_count() const;
  int connections_accepted() const;
  // Connections the client closed while a handler waited in WaitForPeerClose.
  int peer_closes_seen() const;
  // TLS mode: handshakes completed, those that resumed an earlier session,
  // and those that failed (the client did not trust the certificate, or
  // closed the connection during the handshake).
  int tls_handshakes() const;
  int tls_resumed_handshakes() const;
  int tls_failed_handshakes() const;
  // Waits until at least `n` handshakes failed; false on time-out.
  bool WaitForFailedHandshakes(int n, absl::Duration timeout = absl::Seconds(10));

  // Wait until at least `n` requests (peer closes) were seen; false on time-out.
  bool WaitForRequests(int n, absl::Duration timeout = absl::Seconds(10));
  bool WaitForPeerCloses(int n, absl::Duration timeout = absl::Seconds(10));

 private:
  void Listen();
  void AcceptLoop();
  void ServeConnection(int fd);
  void NotePeerClose();

  ssl_ctx_st* tls_ = nullptr;  // null in the clear
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;

  mutable Mutex mu_;
  CondVar changed_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<int> open_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> connection_threads_ ABSL_GUARDED_BY(mu_);
  int connections_accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int peer_closes_ ABSL_GUARDED_BY(mu_) = 0;
  int tls_handshakes_ ABSL_GUARDED_BY(mu_) = 0;
  int tls_resumed_ ABSL_GUARDED_BY(mu_) = 0;
  int tls_failed_ ABSL_GUARDED_BY(mu_) = 0;

  friend class UpstreamExchange;
};

// A gate a handler waits at until the test opens it, so that a test holds
// answers back until it has seen what it needs (a signal taken, health
// turned NOT_SERVING, every call in flight) instead of guessing with a
// sleep.
class ReleaseGate {
 public:
  // Lets every waiter through, and every later one.
  void Open();
  // Waits until the gate is open; false if `timeout` passed first (bounded
  // only so that a test that failed before opening it still ends).
  bool Wait(absl::Duration timeout = absl::Seconds(30));

 private:
  Mutex mu_;
  CondVar changed_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

// A port on 127.0.0.1 that refuses connections: bound but not listening.
// Nothing else can take the port while this lives (a port that was merely
// closed again may be reused by a test running in parallel). Listen() makes
// it accept connections on fd().
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const { return port_; }
  int fd() const { return fd_; }
  // listen(2) on the port: connections are accepted (by the test, on fd()).
  bool Listen();

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The body of a successful withdrawal, as OSM documents it.
inline constexpr absl::string_view kSuccessBody = R"({"error_code":"","error_msg":""})";

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_SCRIPTED_UPSTREAM_H_
