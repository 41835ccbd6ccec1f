#ifndef OSM_SERVER_OBSERVABILITY_ACCESS_LOG_H_
#define OSM_SERVER_OBSERVABILITY_ACCESS_LOG_H_

#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/mutex.h"

namespace osm {

// What one call leaves in the access log. Never a token or a signature.
struct AccessLogEntry {
  absl::Time time;
  absl::string_view method = "Withdraw";
  absl::string_view case_id;
  absl::string_view message_id;
  grpc::StatusCode code = grpc::StatusCode::OK;
  absl::string_view reason;  // ErrorInfo reason, "" when OK
  int http_status = 0;       // 0: no upstream answer
  absl::string_view error_code;
  absl::string_view request_id;
  absl::Duration upstream = absl::ZeroDuration();
  absl::Duration total = absl::ZeroDuration();
  absl::string_view peer;
};

// The access log line of `entry`: one JSON object, with a newline.
std::string FormatAccessLogLine(const AccessLogEntry& entry);

// One JSON line per call, to stderr or a file. Write() formats the line and
// appends it to a buffer that a background thread writes out, so a call
// never waits for the disk or for whoever reads stderr. If the writer falls
// behind by more than `max_buffered_bytes`, lines are dropped and counted
// rather than held without bound. Everything buffered is written when the
// log is destroyed.
class AccessLog {
 public:
  // `destination`: "stderr" or a file path (appended to).
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(absl::string_view destination,
                                                         std::size_t max_buffered_bytes = 8 << 20);
  ~AccessLog();

  void Write(const AccessLogEntry& entry);
  std::uint64_t dropped_lines() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  AccessLog(int fd, bool owns_fd, std::size_t max_buffered_bytes);
  void FlushLoop();

  const int fd_;
  const bool owns_fd_;
  const std::size_t max_buffered_bytes_;
  std::atomic<std::uint64_t> dropped_{0};
  Mutex mu_;
  CondVar wake_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_ACCESS_LOG_H_
