#include "server/observability/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace osm {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  for (LogLevel candidate :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (text == LogLevelName(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void SetMinLogLevel(LogLevel level) { min_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void AppendJsonEscaped(std::string& out, absl::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<std::uint8_t>(c);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 0x0F]);
        } else {
          out.push_back(c);
        }
    }
  }
}

namespace {

template <typename Fields>
void WriteLine(LogLevel level, absl::string_view message, const Fields& fields) {
  std::string line;
  line.reserve(128);
  absl::StrAppend(&line, "{\"time\":\"",
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                  "\",\"level\":\"", LogLevelName(level), "\",\"msg\":\"");
  AppendJsonEscaped(line, message);
  line.push_back('"');
  for (const LogField& field : fields) {
    line.append(",\"");
    AppendJsonEscaped(line, field.first);
    line.append("\":\"");
    AppendJsonEscaped(line, field.second);
    line.push_back('"');
  }
  line.append("}\n");
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t written = write(STDERR_FILENO, data, left);
    if (written <= 0) break;
    data += written;
    left -= static_cast<std::size_t>(written);
  }
}

}  // namespace

void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields) {
  if (LogEnabled(level)) WriteLine(level, message, fields);
}

void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields) {
  if (LogEnabled(level)) WriteLine(level, message, fields);
}

}  // namespace osm
