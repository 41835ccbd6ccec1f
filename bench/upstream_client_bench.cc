// upstream_client_bench: the upstream half of the adapter on its own.
// Drives CurlUpstreamClient with `--in_flight` requests in flight against
// `--url` for `--duration` and prints requests per second and the CPU time
// this process used per request, to separate curl's cost from gRPC's.

#include <sys/resource.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/upstream/curl_upstream_client.h"

ABSL_FLAG(std::string, url, "", "URL to POST to");
ABSL_FLAG(int, in_flight, 128, "requests in flight");
ABSL_FLAG(int, loops, 1, "upstream event-loop threads");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "how long");
ABSL_FLAG(bool, http2, false, "HTTP/2 to the upstream");
ABSL_FLAG(std::string, ca_file, "", "CA bundle for an https upstream");

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Driver {
  osm::UpstreamClient* client;
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  std::atomic<int> running{0};

  void Issue() {
    osm::HttpRequest request;
    request.url = absl::GetFlag(FLAGS_url);
    request.headers = {"Content-Type: application/json", "X-Auth-Token: bench"};
    request.deadline = absl::Now() + absl::Seconds(30);
    client->Start(std::move(request), [this](absl::StatusOr<osm::HttpResponse> outcome) {
      if (!outcome.ok() || outcome->status != 200) {
        if (failed.fetch_add(1) == 0) {
          std::cerr << "first failure: "
                    << (outcome.ok() ? absl::StrCat("HTTP ", outcome->status)
                                     : outcome.status().ToString())
                    << "\n";
        }
      }
      done.fetch_add(1, std::memory_order_relaxed);
      if (stop.load(std::memory_order_relaxed)) {
        running.fetch_sub(1);
      } else {
        Issue();
      }
    });
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  osm::CurlUpstreamClient::Options options;
  options.scheme = absl::GetFlag(FLAGS_url).rfind("https", 0) == 0 ? "https" : "http";
  options.loop_threads = absl::GetFlag(FLAGS_loops);
  options.http2 = absl::GetFlag(FLAGS_http2);
  options.ca_file = absl::GetFlag(FLAGS_ca_file);
  // Declared before the client: callbacks may run while it shuts down.
  Driver driver;
  auto client = osm::CurlUpstreamClient::Create(options);
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 2;
  }
  driver.client = client->get();
  driver.running = absl::GetFlag(FLAGS_in_flight);
  const double cpu_before = CpuSeconds();
  const long done_before = driver.done.load();
  const absl::Time start = absl::Now();
  for (int i = 0; i < absl::GetFlag(FLAGS_in_flight); ++i) driver.Issue();
  absl::SleepFor(absl::GetFlag(FLAGS_duration));
  const long done = driver.done.load() - done_before;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = CpuSeconds() - cpu_before;
  driver.stop = true;
  while (driver.running.load() > 0) absl::SleepFor(absl::Milliseconds(10));
  std::cout << "{\"requests\":" << done << ",\"failed\":" << driver.failed.load()
            << ",\"rps\":" << done / seconds << ",\"cpu_us_per_request\":" << cpu * 1e6 / done
            << "}" << std::endl;
  return 0;
}
