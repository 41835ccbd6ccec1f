#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace osm::testing {
namespace {

// Writes all of `contents` to a new or truncated file; aborts on failure,
// which only a broken test machine causes.
void WriteFileOrDie(const std::string& path, absl::string_view contents) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  while (!contents.empty()) {
    const ssize_t written = write(fd, contents.data(), contents.size());
    if (written <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
  close(fd);
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && base[0] != '\0' ? base : "/tmp", "/osm-test-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

std::string TempDir::Write(absl::string_view name, absl::string_view contents) const {
  const std::string path = File(name);
  const std::string temporary = absl::StrCat(path, ".tmp");
  WriteFileOrDie(temporary, contents);
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    std::perror("rename");
    std::abort();
  }
  return path;
}

std::string TempDir::WriteInPlace(absl::string_view name, absl::string_view contents) const {
  const std::string path = File(name);
  WriteFileOrDie(path, contents);
  return path;
}

}  // namespace osm::testing
