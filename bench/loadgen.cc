// loadgen: a closed-loop load generator that checks every answer.
//
//   --mode=grpc: Withdraw calls over `--connections` separate HTTP/2
//     connections with `--streams` calls in flight on each (gRPC's async
//     callback client); a call counts as OK only if its status is OK.
//   --mode=rest: POST to `--url` with one blocking libcurl handle per
//     connection thread, one request in flight each; OK means HTTP 200.
//     `--fresh_connect` opens a new connection (and TLS session) per request.
//
// Prints one JSON object: calls, ok, errors by code, seconds, calls per
// second and latency (mean, p50, p90, p99, p999, max) in microseconds.

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"

ABSL_FLAG(std::string, mode, "grpc", "grpc or rest");
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "gRPC target (grpc mode)");
ABSL_FLAG(std::string, url, "", "URL to POST to (rest mode)");
ABSL_FLAG(int, connections, 1, "connections");
ABSL_FLAG(int, streams, 1, "calls in flight per connection (grpc mode)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measured time");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "time before measuring starts");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "deadline of each call");
ABSL_FLAG(std::string, token, "bench-token", "x-auth-token sent with every call");
ABSL_FLAG(std::string, ca_file, "", "CA bundle for an https URL (rest mode)");
ABSL_FLAG(bool, fresh_connect, false, "a new connection for every request (rest mode)");

namespace {

using Clock = std::chrono::steady_clock;

// What one worker saw; merged at the end.
struct Tally {
  std::vector<std::int64_t> latencies_ns;
  std::map<std::string, std::int64_t> errors;
  std::int64_t ok = 0;
};

// Measurement window shared by all workers.
struct Window {
  Clock::time_point start;
  Clock::time_point end;
  std::atomic<bool> stop{false};
};

class GrpcWorker {
 public:
  GrpcWorker(huaweicloud::osm::v2::MessageService::Stub* stub, Window* window, int id,
             std::atomic<int>* running)
      : stub_(stub), window_(window), running_(running) {
    request_.set_case_id("bench-case");
    request_.set_message_id(absl::StrCat("msg-", id));
  }

  void Issue() {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->AddMetadata("x-auth-token", absl::GetFlag(FLAGS_token));
    context_->set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_timeout)));
    started_ = Clock::now();
    stub_->async()->Withdraw(context_.get(), &request_, &response_,
                             [this](grpc::Status status) { OnDone(std::move(status)); });
  }

  Tally& tally() { return tally_; }

 private:
  void OnDone(grpc::Status status) {
    const Clock::time_point now = Clock::now();
    if (started_ >= window_->start && now <= window_->end) {
      if (status.ok()) {
        ++tally_.ok;
        tally_.latencies_ns.push_back((now - started_).count());
      } else {
        ++tally_.errors[absl::StrCat(static_cast<int>(status.error_code()), " ",
                                     status.error_message().substr(0, 80))];
      }
    }
    if (window_->stop.load(std::memory_order_relaxed)) {
      running_->fetch_sub(1);
      return;
    }
    Issue();
  }

  huaweicloud::osm::v2::MessageService::Stub* stub_;
  Window* window_;
  std::atomic<int>* running_;
  huaweicloud::osm::v2::WithdrawRequest request_;
  huaweicloud::osm::v2::WithdrawResponse response_;
  std::unique_ptr<grpc::ClientContext> context_;
  Clock::time_point started_;
  Tally tally_;
};

std::vector<Tally> RunGrpc(Window& window) {
  const int connections = absl::GetFlag(FLAGS_connections);
  const int streams = absl::GetFlag(FLAGS_streams);
  std::vector<std::unique_ptr<huaweicloud::osm::v2::MessageService::Stub>> stubs;
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    // A separate subchannel pool per channel: one TCP connection each.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("loadgen.channel", i);
    stubs.push_back(huaweicloud::osm::v2::MessageService::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args)));
  }
  std::atomic<int> running{connections * streams};
  std::vector<std::unique_ptr<GrpcWorker>> workers;
  for (int c = 0; c < connections; ++c) {
    for (int s = 0; s < streams; ++s) {
      workers.push_back(
          std::make_unique<GrpcWorker>(stubs[c].get(), &window, c * streams + s, &running));
    }
  }
  for (auto& worker : workers) worker->Issue();
  std::this_thread::sleep_until(window.end);
  window.stop = true;
  while (running.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::vector<Tally> tallies;
  for (auto& worker : workers) tallies.push_back(std::move(worker->tally()));
  return tallies;
}

std::size_t Discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

std::vector<Tally> RunRest(Window& window) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int connections = absl::GetFlag(FLAGS_connections);
  std::vector<Tally> tallies(connections);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      CURL* easy = curl_easy_init();
      curl_slist* headers = nullptr;
      headers = curl_slist_append(headers, "Content-Type: application/json");
      headers = curl_slist_append(
          headers, absl::StrCat("X-Auth-Token: ", absl::GetFlag(FLAGS_token)).c_str());
      curl_easy_setopt(easy, CURLOPT_URL, absl::GetFlag(FLAGS_url).c_str());
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Discard);
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
      if (!absl::GetFlag(FLAGS_ca_file).empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, absl::GetFlag(FLAGS_ca_file).c_str());
      }
      if (absl::GetFlag(FLAGS_fresh_connect)) {
        curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
      }
      Tally& tally = tallies[c];
      while (!window.stop.load(std::memory_order_relaxed)) {
        const Clock::time_point started = Clock::now();
        const CURLcode result = curl_easy_perform(easy);
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        const Clock::time_point now = Clock::now();
        if (started < window.start || now > window.end) continue;
        if (result == CURLE_OK && status == 200) {
          ++tally.ok;
          tally.latencies_ns.push_back((now - started).count());
        } else {
          ++tally.errors[absl::StrCat("curl ", result, " http ", status)];
        }
      }
      curl_slist_free_all(headers);
      curl_easy_cleanup(easy);
    });
  }
  std::this_thread::sleep_until(window.end);
  window.stop = true;
  for (std::thread& thread : threads) thread.join();
  return tallies;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  Window window;
  window.start = Clock::now() + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_warmup));
  window.end = window.start + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration));
  const bool rest = absl::GetFlag(FLAGS_mode) == "rest";
  std::vector<Tally> tallies = rest ? RunRest(window) : RunGrpc(window);

  std::vector<std::int64_t> latencies;
  std::map<std::string, std::int64_t> errors;
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  for (Tally& tally : tallies) {
    latencies.insert(latencies.end(), tally.latencies_ns.begin(), tally.latencies_ns.end());
    ok += tally.ok;
    for (const auto& [key, count] : tally.errors) {
      errors[key] += count;
      failed += count;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) -> double {
    if (latencies.empty()) return 0;
    const auto index = static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1));
    return static_cast<double>(latencies[index]) / 1000.0;
  };
  double sum = 0;
  for (std::int64_t latency : latencies) sum += static_cast<double>(latency);
  const double seconds = absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration));
  std::string error_json;
  for (const auto& [key, count] : errors) {
    std::string escaped;
    for (char c : key) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    absl::StrAppend(&error_json, error_json.empty() ? "" : ",", "\"", escaped, "\":", count);
  }
  std::cout << "{\"calls\":" << ok + failed << ",\"ok\":" << ok << ",\"failed\":" << failed
            << ",\"errors\":{" << error_json << "},\"seconds\":" << seconds
            << ",\"rps\":" << static_cast<double>(ok + failed) / seconds
            << ",\"mean_us\":" << (latencies.empty() ? 0 : sum / latencies.size() / 1000.0)
            << ",\"p50_us\":" << percentile(0.50) << ",\"p90_us\":" << percentile(0.90)
            << ",\"p99_us\":" << percentile(0.99) << ",\"p999_us\":" << percentile(0.999)
            << ",\"max_us\":" << percentile(1.0) << "}" << std::endl;
  return failed == 0 ? 0 : 1;
}
