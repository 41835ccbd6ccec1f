#ifndef OSM_SERVER_BASE_FLAGS_HELP_H_
#define OSM_SERVER_BASE_FLAGS_HELP_H_

#include <ostream>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace osm {

// --help for a program whose flags are an explicit list, instead of
// Abseil's, which picks flags by the name of the source file that defines
// them and prints the build machine's source paths.
//
// If argv asks for help (--help, -help, --helpshort; Abseil's --helpfull
// still lists every flag of every library), prints `usage`, then each flag
// of `flags` with its help text and default, and returns true: the program
// should exit 0. Each name must be a defined flag.
bool HandleHelpFlag(int argc, char** argv, absl::string_view usage,
                    absl::Span<const absl::string_view> flags, std::ostream& out);

}  // namespace osm

#endif  // OSM_SERVER_BASE_FLAGS_HELP_H_
