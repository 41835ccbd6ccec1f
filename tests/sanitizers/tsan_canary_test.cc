// A canary for the ThreadSanitizer stage: a data race that TSan must report
// through the project's suppressions (tests/sanitizers/tsan.supp). If it is
// not reported, the suppressions hide races of the kind the adapter could
// have (a reactor callback on a thread that gRPC created against a thread of
// ours), and the TSan stage proves nothing about them.
//
// The race: a Withdraw handler of a tiny callback service, run by gRPC on one
// of its own threads, writes a plain int; a std::thread of this program
// writes the same int after seeing, through a relaxed atomic (which orders
// nothing for TSan or for the language), that the handler has written it.
// Nothing orders the two writes: a real data race, on every run.
//
// Built and registered only in the tsan build (tests/CMakeLists.txt), where
// tsan_canary_check.cmake runs it and requires TSan's report and a failing
// exit status. Run directly, it exits 0 only when no report stopped it.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "huaweicloud/osm/v2/message_service.grpc.pb.h"

namespace {

using huaweicloud::osm::v2::MessageService;
using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;

// The racy variable: deliberately neither atomic nor guarded.
int canary_value = 0;
// Set (relaxed) once the handler has written canary_value. Relaxed on both
// sides, so it creates no happens-before edge between the two writes.
std::atomic<bool> handler_wrote{false};
std::atomic<bool> handler_on_main_thread{false};
std::thread::id main_thread;

class CanaryService final : public MessageService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* context,
                                     const WithdrawRequest* /*request*/,
                                     WithdrawResponse* /*response*/) override {
    TsanCanaryHandlerWrite();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  // Named, not inlined, so that the report's top frame says what it is.
  __attribute__((noinline)) static void TsanCanaryHandlerWrite() {
    handler_on_main_thread.store(std::this_thread::get_id() == main_thread,
                                 std::memory_order_relaxed);
    canary_value = 1;  // the race, on gRPC's thread
    handler_wrote.store(true, std::memory_order_relaxed);
  }
};

__attribute__((noinline)) void TsanCanaryThreadWrite() {
  while (!handler_wrote.load(std::memory_order_relaxed)) std::this_thread::yield();
  canary_value = 2;  // the race, on our thread
}

}  // namespace

int main() {
  main_thread = std::this_thread::get_id();
  CanaryService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "tsan_canary: the server did not start\n");
    return 2;
  }

  // Started before the call: its creation orders nothing after it.
  std::thread writer(TsanCanaryThreadWrite);

  // The callback API, so that this thread only waits and never polls: the
  // handler then runs on a thread of gRPC's.
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  std::unique_ptr<MessageService::Stub> stub = MessageService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  WithdrawRequest request;
  WithdrawResponse response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub->async()->Withdraw(&context, &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    done = true;
    cv.notify_one();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  if (!status.ok()) {
    // The handler never ran: release the writer all the same.
    handler_wrote.store(true, std::memory_order_relaxed);
  }
  writer.join();
  server->Shutdown();

  std::fprintf(stderr,
               "tsan_canary: finished without a report (call %s, handler on %s thread, "
               "value %d)\n",
               status.ok() ? "OK" : status.error_message().c_str(),
               handler_on_main_thread.load() ? "the main" : "a gRPC", canary_value);
  return 0;
}
