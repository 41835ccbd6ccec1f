#ifndef OSM_TESTS_SUPPORT_HAPROXY_PROCESS_H_
#define OSM_TESTS_SUPPORT_HAPROXY_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "server/base/mutex.h"

namespace osm::testing {

// HAProxy from Debian (/usr/sbin/haproxy) running deploy/haproxy/haproxy.cfg,
// the shipped front, with `environment` (NAME=VALUE) on top of this
// process's own; it listens for callers on 127.0.0.1:port() (a free port
// picked here, passed as OSM_FRONT_BIND). The constructor returns once the
// front accepts connections. Killed, with what it started, when destroyed.
class HaproxyProcess {
 public:
  explicit HaproxyProcess(std::vector<std::string> environment);
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  bool started() const { return started_; }
  int port() const { return port_; }
  std::string target() const;
  // Everything HAProxy wrote to stderr so far.
  std::string Output() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool started_ = false;
  std::thread reader_;
  mutable Mutex mu_;
  std::string output_ ABSL_GUARDED_BY(mu_);
};

// A TCP port on 127.0.0.1 that was free a moment ago (for processes that
// must be restarted on the same address).
int FreePort();

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_HAPROXY_PROCESS_H_
