#include "server/osm/redaction.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace osm {

void CallSecrets::Add(std::string secret) {
  if (!secret.empty()) secrets_.push_back(std::move(secret));
}

bool CallSecrets::AppearIn(absl::string_view text) const {
  for (const std::string& secret : secrets_) {
    if (absl::StrContains(text, secret)) return true;
  }
  return false;
}

std::string CallSecrets::Redact(absl::string_view text) const {
  std::string out(text);
  for (const std::string& secret : secrets_) {
    if (absl::StrContains(out, secret)) out = absl::StrReplaceAll(out, {{secret, "[REDACTED]"}});
  }
  return out;
}

}  // namespace osm
