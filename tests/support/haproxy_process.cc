#include "tests/support/haproxy_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "tests/support/adapter_process.h"
#include "absl/time/clock.h"

namespace osm::testing {
namespace {

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected =
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

}  // namespace

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

HaproxyProcess::HaproxyProcess(std::vector<std::string> environment) {
  port_ = FreePort();
  int pipe_fds[2];
  if (port_ == 0 || pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  environment.push_back(absl::StrCat("OSM_FRONT_BIND=127.0.0.1:", port_));
  // Its own process group: the worker HAProxy forks ends with it.
  pid_ = SpawnChild({"/usr/sbin/haproxy", "-W", "-db", "-f", OSM_FRONT_CONFIG},
                    std::move(environment), pipe_fds[1], /*own_group=*/true);
  close(pipe_fds[1]);
  if (pid_ < 0) {
    close(pipe_fds[0]);
    return;
  }
  reader_ = std::thread([this, fd = pipe_fds[0]] {
    char buffer[4096];
    while (true) {
      const ssize_t got = read(fd, buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      MutexLock lock(&mu_);
      output_.append(buffer, static_cast<std::size_t>(got));
    }
    close(fd);
  });
  // HAProxy prints nothing when it is ready: the front accepting is the sign.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!Accepts(port_)) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;  // it exited: its output says why
      return;
    }
    if (absl::Now() >= give_up) return;
    absl::SleepFor(absl::Milliseconds(10));
  }
  started_ = true;
}

HaproxyProcess::~HaproxyProcess() {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_.joinable()) reader_.join();
}

std::string HaproxyProcess::target() const { return absl::StrCat("127.0.0.1:", port_); }

std::string HaproxyProcess::Output() const {
  MutexLock lock(&mu_);
  return output_;
}

}  // namespace osm::testing
