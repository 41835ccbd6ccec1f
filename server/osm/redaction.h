#ifndef OSM_SERVER_OSM_REDACTION_H_
#define OSM_SERVER_OSM_REDACTION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace osm {

// The secrets of one call: the caller's token (passed through), or the
// security token and the request's signature (signing). An upstream that
// echoes a request header must not be able to hand one of them to the
// caller or to a log, so the response mapping replaces each, wherever it
// appears in what leaves the process, with "[REDACTED]".
class CallSecrets {
 public:
  // Empty secrets are ignored.
  void Add(std::string secret);

  // True if `text` holds one of the secrets.
  bool AppearIn(absl::string_view text) const;
  // `text` with every secret replaced by "[REDACTED]".
  std::string Redact(absl::string_view text) const;

  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;
};

}  // namespace osm

#endif  // OSM_SERVER_OSM_REDACTION_H_
