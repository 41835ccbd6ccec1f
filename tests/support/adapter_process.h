#ifndef OSM_TESTS_SUPPORT_ADAPTER_PROCESS_H_
#define OSM_TESTS_SUPPORT_ADAPTER_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "server/base/mutex.h"

namespace osm::testing {

// The osm-adapter binary, started with `args`, --listen=127.0.0.1:0 and
// --metrics_listen=127.0.0.1:0 (`args` may override them). Its
// stderr is collected; the constructor returns once it logged "listening".
class AdapterProcess {
 public:
  // `environment`: extra NAME=VALUE entries on top of this process's own.
  explicit AdapterProcess(std::vector<std::string> args, std::vector<std::string> environment = {});
  // Kills the process if it still runs.
  ~AdapterProcess();

  bool started() const { return port_ != 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // The Prometheus endpoint's port (the process listens on 127.0.0.1:0).
  int metrics_port() const { return metrics_port_; }
  std::string target() const;

  // Sends `signal` to the process.
  void Signal(int signal);
  // Waits for the process to exit; its wait status, or nullopt on time-out.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // The "Threads:" line of /proc/<pid>/status; -1 if it cannot be read.
  int ThreadCount() const;
  // Waits until the process has written `text` to stderr; false on time-out.
  bool WaitForOutput(const std::string& text, absl::Duration timeout);
  // Everything the process wrote to stderr so far.
  std::string Output() const;

 private:
  void ReadOutput(int fd);

  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  bool exited_ = false;
  std::thread reader_;
  mutable Mutex mu_;
  CondVar changed_;
  std::string output_ ABSL_GUARDED_BY(mu_);
  bool output_closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Starts argv[0] (a path) with `argv`, this process's environment plus
// `environment` (NAME=VALUE), and its stderr on `stderr_fd`. The child dies
// with this process, even when it is killed and cannot clean up; with
// `own_group` it leads a process group of its own (to be killed whole).
// Returns its pid, or -1.
pid_t SpawnChild(std::vector<std::string> argv, std::vector<std::string> environment,
                 int stderr_fd, bool own_group = false);

// Raises this process's soft limit of open descriptors to its hard limit;
// processes it starts inherit it. Many concurrent calls need many
// descriptors, in the test and in the adapter.
void RaiseDescriptorLimit();

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_ADAPTER_PROCESS_H_
