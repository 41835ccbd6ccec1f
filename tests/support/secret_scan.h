#ifndef OSM_TESTS_SUPPORT_SECRET_SCAN_H_
#define OSM_TESTS_SUPPORT_SECRET_SCAN_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace osm::testing {

// A value that must never show: named, so that a finding can be reported
// without printing it.
struct Secret {
  std::string name;
  std::string value;
};

// Every place where one of `secrets` occurs in `text` (called `where` in the
// report): one line per finding, with the secret's name, the offset and the
// text around it, the secret itself masked. Empty when there is none.
std::string FindSecrets(absl::string_view where, absl::string_view text,
                        const std::vector<Secret>& secrets);

// `text` with every one of `secrets` replaced by "<its name>", safe to print
// in a failure message.
std::string MaskSecrets(absl::string_view text, const std::vector<Secret>& secrets);

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_SECRET_SCAN_H_
