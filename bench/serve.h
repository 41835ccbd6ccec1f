// Shared by the benchmark's stand-in servers: serve one service on --listen
// and print the "listening" line bench/lib.sh waits for.
#ifndef OSM_BENCH_SERVE_H_
#define OSM_BENCH_SERVE_H_

#include <grpcpp/grpcpp.h>
#include <sched.h>

#include <iostream>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

namespace osm::bench {

// Serves `service` on `listen` (HOST:PORT, port 0 for any) until killed;
// returns the process's exit status.
inline int ServeForever(grpc::Service& service, const std::string& listen) {
  // The same settings as the adapter, so that the comparison is fair: no
  // mutex deadlock detection, SCHED_BATCH (--batch_scheduling) for every
  // thread, no bandwidth-delay probing.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const sched_param param{};
  sched_setscheduler(0, SCHED_BATCH, &param);
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "cannot listen on " << listen << "\n";
    return 2;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::cerr << "{\"msg\":\"listening\",\"address\":\"" << host << ":" << port << "\"}" << std::endl;
  server->Wait();
  return 0;
}

}  // namespace osm::bench

#endif  // OSM_BENCH_SERVE_H_
