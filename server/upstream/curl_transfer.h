#ifndef OSM_SERVER_UPSTREAM_CURL_TRANSFER_H_
#define OSM_SERVER_UPSTREAM_CURL_TRANSFER_H_

#include <curl/curl.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/upstream/curl_handles.h"
#include "server/upstream/http_types.h"
#include "server/upstream/upstream_client.h"

namespace osm {

// What every easy handle of a loop shares; set once per handle.
struct EasyHandleOptions {
  // "http" or "https": the only protocol transfers may use.
  std::string scheme = "https";
  absl::Duration connect_timeout = absl::Seconds(10);
  // Extra trusted CA bundle (PEM), or empty for the system's.
  std::string ca_file;
  // HTTP/2 (see CurlUpstreamClient::Options::http2); else HTTP/1.1 only.
  bool http2 = false;
  // Optional: TLS sessions shared between handles.
  CURLSH* tls_sessions = nullptr;
  // The loop's socket callbacks (CURLOPT_OPENSOCKETFUNCTION and
  // CURLOPT_CLOSESOCKETFUNCTION) and their argument.
  curl_opensocket_callback open_socket = nullptr;
  curl_closesocket_callback close_socket = nullptr;
  void* socket_data = nullptr;
};

// A new easy handle with `options`; null when libcurl cannot make one.
CurlEasy NewEasyHandle(const EasyHandleOptions& options);

// One request in flight: the request, its callback, and the libcurl state
// of its current attempt. Owned by its loop from Start() until its callback
// runs; libcurl's callbacks find it through CURLOPT_PRIVATE.
struct CurlTransfer {
  UpstreamClient::TransferId id = 0;
  HttpRequest request;
  UpstreamClient::Callback done;
  // The easy handle of the current attempt, while it has one.
  CurlEasy easy;
  CurlSlist header_list;
  HttpResponse response;
  // The attempt's time-out, as given to libcurl.
  long timeout_ms = 0;
  // The blank line that ends the final response's headers was seen.
  bool headers_complete = false;
  // Attempts so far; more than one only after failures that provably
  // happened before anything was sent.
  int attempts = 0;
  char error[CURL_ERROR_SIZE] = {};

  // Starts an attempt on `handle`: method, URL, headers, body, a time-out of
  // `timeout_ms`, and the callbacks that fill `response`. INTERNAL when out
  // of memory (the handle is kept, to be released).
  absl::Status Attach(CurlEasy handle, long timeout_ms);
  // Ends the attempt: gives the easy handle back (null if there was none),
  // detached from this transfer, and frees the header list.
  CurlEasy Release();
  // Forgets what a failed attempt received, before another one.
  void ResetForRetry();
};

// True for failures that happen before a single byte of the request has
// left (connection refused, DNS, TLS handshake): safe to try again.
bool FailedBeforeSending(CURLcode code);

// Those, and failures after sending that brought no answer (nothing
// received, the connection reset): safe to try again for an idempotent
// request only.
bool FailedWithoutAnswer(CURLcode code);

// A finished attempt's outcome as the UpstreamClient contract describes
// it: the response (a body cut off at the limit included), or UNAVAILABLE,
// DEADLINE_EXCEEDED or INTERNAL. Moves the response out of `transfer`.
absl::StatusOr<HttpResponse> TakeOutcome(CURLcode code, CurlTransfer& transfer);

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_CURL_TRANSFER_H_
