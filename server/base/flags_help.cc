#include "server/base/flags_help.h"

#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"

namespace osm {

bool HandleHelpFlag(int argc, char** argv, absl::string_view usage,
                    absl::Span<const absl::string_view> flags, std::ostream& out) {
  bool asked = false;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    asked =
        asked || arg == "--help" || arg == "-help" || arg == "--helpshort" || arg == "-helpshort";
  }
  if (!asked) return false;
  out << usage << "\n\n  Flags:\n";
  for (absl::string_view name : flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) std::abort();  // the list names a flag that does not exist
    out << "    --" << name << " (" << flag->Help() << "); default: \"" << flag->DefaultValue()
        << "\";\n";
  }
  return true;
}

}  // namespace osm
