#ifndef OSM_TESTS_SUPPORT_ADAPTER_PROCESS_H_
#define OSM_TESTS_SUPPORT_ADAPTER_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "mutex.h"

namespace osm::testing {

// The osm-adapter binary, started with `args` and --listen=127.0.0.1:0. Its
// stderr is collected; the constructor returns once it logged "listening".
class AdapterProcess {
 public:
  explicit AdapterProcess(std::vector<std::string> args);
  // Kills the process if it still runs.
  ~AdapterProcess();

  bool started() const { return port_ != 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string target() const;

  // Sends `signal` to the process.
  void Signal(int signal);
  // Waits for the process to exit; its wait status, or nullopt on time-out.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // The "Threads:" line of /proc/<pid>/status.
  int ThreadCount() const;
  // Everything the process wrote to stderr so far.
  std::string Output() const;

 private:
  void ReadOutput(int fd);

  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  std::thread reader_;
  mutable Mutex mu_;
  CondVar changed_;
  std::string output_ ABSL_GUARDED_BY(mu_);
  bool output_closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_ADAPTER_PROCESS_H_
