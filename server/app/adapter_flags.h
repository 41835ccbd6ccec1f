#ifndef OSM_SERVER_APP_ADAPTER_FLAGS_H_
#define OSM_SERVER_APP_ADAPTER_FLAGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/app/adapter_config.h"

namespace osm {

// The adapter's flags, by name: the explicit list that gets environment
// twins, --help and the start-up line. Each is a field of AdapterConfig,
// whose default it takes.
absl::Span<const absl::string_view> AdapterFlagNames();

// Sets the adapter's flags from their environment variables
// (EnvironmentName()). Call before absl::ParseCommandLine, so that flags on
// the command line win. The error names the variable.
absl::Status ApplyEnvironmentToFlags();

// If argv asks for --help, prints the adapter's flags and returns true (exit
// 0); makes --version print the version.
bool HandleUsageFlags(int argc, char** argv);

// The configuration the flags describe, with the credentials they name
// loaded (the file, or the HUAWEICLOUD_SDK_* variables). The settings
// themselves are checked by Validate(), which AdapterServer::Start() runs.
absl::StatusOr<AdapterConfig> ConfigFromFlags();

// Every adapter flag and its effective value, for the start-up line. Flags
// that hold secrets show only "set" or "unset".
std::vector<std::pair<std::string, std::string>> EffectiveFlags();

}  // namespace osm

#endif  // OSM_SERVER_APP_ADAPTER_FLAGS_H_
