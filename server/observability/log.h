#ifndef OSM_SERVER_OBSERVABILITY_LOG_H_
#define OSM_SERVER_OBSERVABILITY_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace osm {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Parses "debug", "info", "warning" or "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);
absl::string_view LogLevelName(LogLevel level);

// Lines below this level are dropped. Set once at start-up.
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

using LogField = std::pair<absl::string_view, absl::string_view>;

// Writes one JSON object per line to stderr with a single write(2), so lines
// from different threads never interleave:
//   {"time":"...","level":"info","msg":"...","key":"value",...}
// Callers must never pass secrets.
void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields = {});
void Log(LogLevel level, absl::string_view message, const std::vector<LogField>& fields);

// Appends `text` to `out` as the inside of a JSON string.
void AppendJsonEscaped(std::string& out, absl::string_view text);

}  // namespace osm

#endif  // OSM_SERVER_OBSERVABILITY_LOG_H_
