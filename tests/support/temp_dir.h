#ifndef OSM_TESTS_SUPPORT_TEMP_DIR_H_
#define OSM_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace osm::testing {

// A fresh directory for one test's files, removed with everything in it
// when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The full path of `name` in the directory.
  std::string File(absl::string_view name) const;

  // Replaces `name` the way a careful writer does: a complete temporary file
  // (mode 0600) renamed over it. Returns the full path.
  std::string Write(absl::string_view name, absl::string_view contents) const;
  // Rewrites `name` in place (same inode, truncated first), the way a
  // careless writer does. Returns the full path.
  std::string WriteInPlace(absl::string_view name, absl::string_view contents) const;

 private:
  std::string path_;
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_TEMP_DIR_H_
