#include "tests/support/secret_scan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace osm::testing {

std::string MaskSecrets(absl::string_view text, const std::vector<Secret>& secrets) {
  std::string masked(text);
  for (const Secret& secret : secrets) {
    if (!secret.value.empty()) {
      masked = absl::StrReplaceAll(masked, {{secret.value, absl::StrCat("<", secret.name, ">")}});
    }
  }
  return masked;
}

std::string FindSecrets(absl::string_view where, absl::string_view text,
                        const std::vector<Secret>& secrets) {
  constexpr std::size_t kContext = 40;
  std::string findings;
  for (const Secret& secret : secrets) {
    if (secret.value.empty()) continue;
    for (std::size_t at = text.find(secret.value); at != absl::string_view::npos;
         at = text.find(secret.value, at + 1)) {
      const std::size_t from = at > kContext ? at - kContext : 0;
      // Every secret masked in the excerpt, not just this one.
      const std::string context =
          MaskSecrets(text.substr(from, at + secret.value.size() + kContext - from), secrets);
      absl::StrAppend(&findings, secret.name, " in ", where, " at offset ", at, ": ...", context,
                      "...\n");
    }
  }
  return findings;
}

}  // namespace osm::testing
