#include "server/observability/access_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/observability/log.h"
#include "server/observability/status_code_name.h"

namespace osm {
namespace {

// Ids from callers that failed validation can be long: keep lines short.
constexpr std::size_t kMaxFieldBytes = 128;

void AppendField(std::string& line, absl::string_view name, absl::string_view value) {
  absl::StrAppend(&line, ",\"", name, "\":\"");
  AppendJsonEscaped(line, value.substr(0, kMaxFieldBytes));
  line.push_back('"');
}

// Flushes when this much is buffered, or after kFlushInterval.
constexpr std::size_t kFlushBytes = 64 << 10;
constexpr absl::Duration kFlushInterval = absl::Milliseconds(200);

}  // namespace

std::string FormatAccessLogLine(const AccessLogEntry& entry) {
  std::string line;
  line.reserve(320);
  absl::StrAppend(&line, "{\"time\":\"",
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", entry.time, absl::UTCTimeZone()),
                  "\",\"log\":\"access\"");
  AppendField(line, "method", entry.method);
  AppendField(line, "case_id", entry.case_id);
  AppendField(line, "message_id", entry.message_id);
  AppendField(line, "grpc_code", StatusCodeName(entry.code));
  if (!entry.reason.empty()) AppendField(line, "reason", entry.reason);
  absl::StrAppend(&line, ",\"http_status\":", entry.http_status);
  AppendField(line, "error_code", entry.error_code);
  AppendField(line, "request_id", entry.request_id);
  absl::StrAppend(&line, ",\"upstream_ms\":", absl::ToDoubleMilliseconds(entry.upstream),
                  ",\"total_ms\":", absl::ToDoubleMilliseconds(entry.total));
  AppendField(line, "peer", entry.peer);
  line.append("}\n");
  return line;
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(absl::string_view destination,
                                                           std::size_t max_buffered_bytes) {
  if (destination == "stderr") {
    return std::unique_ptr<AccessLog>(new AccessLog(STDERR_FILENO, false, max_buffered_bytes));
  }
  const std::string path(destination);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--access_log: cannot open ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(fd, true, max_buffered_bytes));
}

AccessLog::AccessLog(int fd, bool owns_fd, std::size_t max_buffered_bytes)
    : fd_(fd), owns_fd_(owns_fd), max_buffered_bytes_(max_buffered_bytes) {
  flusher_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "access-log");
    FlushLoop();
  });
}

AccessLog::~AccessLog() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  flusher_.join();
  if (owns_fd_) close(fd_);
}

void AccessLog::Write(const AccessLogEntry& entry) {
  const std::string line = FormatAccessLogLine(entry);
  bool wake = false;
  {
    MutexLock lock(&mu_);
    if (buffer_.size() + line.size() > max_buffered_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    buffer_.append(line);
    wake = buffer_.size() >= kFlushBytes;
  }
  if (wake) wake_.NotifyOne();
}

void AccessLog::FlushLoop() {
  std::string writing;
  while (true) {
    bool stopping;
    {
      MutexLock lock(&mu_);
      wake_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + kFlushInterval), [&] {
        mu_.AssertHeld();
        return stopping_ || buffer_.size() >= kFlushBytes;
      });
      writing.swap(buffer_);
      stopping = stopping_;
    }
    const char* data = writing.data();
    std::size_t left = writing.size();
    while (left > 0) {
      const ssize_t written = write(fd_, data, left);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) break;  // nothing better to do with a broken log
      data += written;
      left -= static_cast<std::size_t>(written);
    }
    writing.clear();
    if (stopping) {
      MutexLock lock(&mu_);
      if (buffer_.empty()) return;
    }
  }
}

}  // namespace osm
