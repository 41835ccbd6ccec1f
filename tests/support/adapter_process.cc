#include "tests/support/adapter_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace osm::testing {

AdapterProcess::AdapterProcess(std::vector<std::string> args,
                               std::vector<std::string> environment) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  std::vector<std::string> argv_storage;
  argv_storage.push_back(OSM_ADAPTER_BINARY);
  argv_storage.push_back("--listen=127.0.0.1:0");
  // Tests run in parallel: never the default metrics port.
  argv_storage.push_back("--metrics_listen=127.0.0.1:0");
  for (std::string& arg : args) argv_storage.push_back(std::move(arg));
  pid_ = SpawnChild(std::move(argv_storage), std::move(environment), pipe_fds[1]);
  close(pipe_fds[1]);
  if (pid_ < 0) {
    close(pipe_fds[0]);
    pid_ = -1;
    return;
  }
  reader_ = std::thread([this, fd = pipe_fds[0]] { ReadOutput(fd); });

  // Wait for {"msg":"listening","address":"127.0.0.1:PORT",...}.
  MutexLock lock(&mu_);
  changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + absl::Seconds(30)), [&] {
    mu_.AssertHeld();
    return output_closed_ || absl::StrContains(output_, "\"msg\":\"listening\"");
  });
  const std::string marker = "\"address\":\"127.0.0.1:";
  const std::size_t at = output_.find(marker);
  if (at == std::string::npos) return;
  const std::size_t start = at + marker.size();
  const std::size_t end = output_.find('"', start);
  if (!absl::SimpleAtoi(output_.substr(start, end - start), &port_)) port_ = 0;
  const std::string metrics_marker = "\"metrics_port\":\"";
  if (const std::size_t m = output_.find(metrics_marker); m != std::string::npos) {
    const std::size_t from = m + metrics_marker.size();
    if (!absl::SimpleAtoi(output_.substr(from, output_.find('"', from) - from), &metrics_port_)) {
      metrics_port_ = 0;
    }
  }
}

pid_t SpawnChild(std::vector<std::string> argv, std::vector<std::string> environment,
                 int stderr_fd, bool own_group) {
  std::vector<char*> argv_pointers;
  for (std::string& arg : argv) argv_pointers.push_back(arg.data());
  argv_pointers.push_back(nullptr);
  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry) envp.push_back(*entry);
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (own_group) setpgid(0, 0);
    dup2(stderr_fd, STDERR_FILENO);
    execve(argv_pointers[0], argv_pointers.data(), envp.data());
    _exit(127);
  }
  return pid;
}

AdapterProcess::~AdapterProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    WaitForExit(absl::Seconds(30));
  }
  if (reader_.joinable()) reader_.join();
}

std::string AdapterProcess::target() const { return absl::StrCat("127.0.0.1:", port_); }

void AdapterProcess::Signal(int signal) {
  if (pid_ > 0 && !exited_) kill(pid_, signal);
}

std::optional<int> AdapterProcess::WaitForExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      return status;
    }
    if (done < 0 && errno != EINTR) return std::nullopt;
    if (absl::Now() >= deadline) return std::nullopt;
    // The exit closes the process's stderr: wait for that instead of polling.
    MutexLock lock(&mu_);
    changed_.WaitUntil(
        &mu_, absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Milliseconds(50))), [&] {
          mu_.AssertHeld();
          return output_closed_;
        });
  }
}

int AdapterProcess::ThreadCount() const {
  std::ifstream status(absl::StrCat("/proc/", pid_, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "Threads:")) {
      int count = 0;
      if (absl::SimpleAtoi(line.substr(8), &count)) return count;
    }
  }
  return -1;
}

bool AdapterProcess::WaitForOutput(const std::string& text, absl::Duration timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
    mu_.AssertHeld();
    return absl::StrContains(output_, text);
  });
}

std::string AdapterProcess::Output() const {
  MutexLock lock(&mu_);
  return output_;
}

void AdapterProcess::ReadOutput(int fd) {
  char buffer[4096];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    MutexLock lock(&mu_);
    if (got <= 0) {
      output_closed_ = true;
      changed_.NotifyAll();
      break;
    }
    output_.append(buffer, static_cast<std::size_t>(got));
    changed_.NotifyAll();
  }
  close(fd);
}

void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace osm::testing
