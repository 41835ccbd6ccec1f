#ifndef OSM_TESTS_SUPPORT_SCOPED_ENVIRONMENT_H_
#define OSM_TESTS_SUPPORT_SCOPED_ENVIRONMENT_H_

#include <stdlib.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace osm::testing {

// Sets environment variables (inherited by processes started meanwhile)
// and puts the old values back when it goes away.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(const std::vector<std::pair<std::string, std::string>>& variables) {
    for (const auto& [name, value] : variables) {
      const char* old = getenv(name.c_str());
      saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
      setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnvironment() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_SCOPED_ENVIRONMENT_H_
