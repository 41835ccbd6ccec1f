#ifndef OSM_TESTS_SUPPORT_RUN_COMMAND_H_
#define OSM_TESTS_SUPPORT_RUN_COMMAND_H_

#include <string>

namespace osm::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string output;  // standard output and standard error, interleaved
};

// Runs `command` with /bin/sh and waits for it.
CommandResult RunCommand(const std::string& command);

// `text` quoted for /bin/sh.
std::string ShellQuote(const std::string& text);

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_RUN_COMMAND_H_
