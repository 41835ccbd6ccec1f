#include "support/secret_scan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace osm::testing {

std::string FindSecrets(absl::string_view where, absl::string_view text,
                        const std::vector<Secret>& secrets) {
  constexpr std::size_t kContext = 40;
  std::string findings;
  for (const Secret& secret : secrets) {
    if (secret.value.empty()) continue;
    for (std::size_t at = text.find(secret.value); at != absl::string_view::npos;
         at = text.find(secret.value, at + 1)) {
      const std::size_t from = at > kContext ? at - kContext : 0;
      std::string context(text.substr(from, at + secret.value.size() + kContext - from));
      // Mask every secret in the excerpt, not just this one.
      for (const Secret& other : secrets) {
        if (!other.value.empty()) {
          context = absl::StrReplaceAll(context, {{other.value, absl::StrCat("<", other.name, ">")}});
        }
      }
      absl::StrAppend(&findings, secret.name, " in ", where, " at offset ", at, ": ...",
                      context, "...\n");
    }
  }
  return findings;
}

}  // namespace osm::testing
