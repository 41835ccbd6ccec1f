// loadgen: a closed-loop load generator that checks every answer.
//
//   --mode=grpc: Withdraw calls over `--connections` separate HTTP/2
//     connections with `--streams` calls in flight on each (gRPC's async
//     callback client); a call counts as OK only if its status is OK.
//   --mode=rest: POST to `--url` with one blocking libcurl handle per
//     connection thread, one request in flight each; OK means HTTP 200.
//     `--fresh_connect` opens a new connection (and TLS session) per request.
//
// Mixed load (grpc mode, for bench/soak.sh): `--case_mix` spreads the calls
// over case ids by weight, each with the status code it must end with and
// optionally its own deadline; `--cancel_fraction` has the client cancel
// some calls after a random time up to `--cancel_after`. A call is then as
// expected when it ends with its case's code, or CANCELLED when the client
// cancelled it; anything else is unexpected and fails the run.
//
// Prints one JSON object: calls, ok, errors by code, seconds, calls per
// second and latency (mean, p50, p90, p99, p999, max) in microseconds, all of
// calls started and finished inside the measured window, and the fewest
// calls that finished in any whole second of it ("slowest_second"); with a
// mixed load also how many calls were as expected, how many were not (by
// case, code and message) and how many calls the client marked for
// cancellation ("cancelled_by_client": including those that finished before
// the cancel fired).
//
// Every call started inside the window is checked, also one that ends after
// it ("after_window" counts those). When the window ends, the calls in
// flight get their deadline and 5 s more to end; any still running then is
// "unfinished" (cancelled, and counted as unexpected, or as failed without
// a mix). The exit status is 1 when a call was unexpected (failed, without
// a mix) or unfinished.

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
ABSL_FLAG(std::string, case_mix, "",
          "grpc mode: comma-separated CASE_ID:WEIGHT[:CODE[:TIMEOUT]]; each call picks a case "
          "id by weight and must end with status CODE (default 0, OK); TIMEOUT (e.g. 300ms) "
          "replaces --timeout for it. Empty: case 'bench-case', every call must be OK");
ABSL_FLAG(double, cancel_fraction, 0,
          "grpc mode: fraction of calls the client cancels, each after a random time up to "
          "--cancel_after; such a call may end CANCELLED");
ABSL_FLAG(absl::Duration, cancel_after, absl::Milliseconds(100),
          "longest time before a cancelled call is cancelled (--cancel_fraction)");

namespace {

using Clock = std::chrono::steady_clock;

// What one worker saw; merged at the end.
struct Tally {
  std::vector<std::int64_t> latencies_ns;
  std::map<std::string, std::int64_t> errors;
  std::int64_t ok = 0;
  // Calls finished in each whole second of the window.
  std::vector<std::int64_t> per_second;
  // Calls started in the window that ended after it (checked all the same).
  std::int64_t after_window = 0;
  // Mixed load only.
  std::int64_t expected = 0;
  // Calls marked for cancellation, whether or not they finished first.
  std::int64_t cancelled_by_client = 0;
  std::map<std::string, std::int64_t> unexpected;
};

// One entry of --case_mix.
struct MixCase {
  std::string case_id;
  int weight = 1;
  grpc::StatusCode code = grpc::StatusCode::OK;
  absl::Duration timeout;
};

// The load's shape: which case each call uses and what it must end with.
struct Mix {
  std::vector<MixCase> cases;
  std::vector<int> weights;
  double cancel_fraction = 0;
  absl::Duration cancel_after;
  // --case_mix or --cancel_fraction was given.
  bool mixed = false;
};

Mix ParseMix() {
  Mix mix;
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  const std::string spec = absl::GetFlag(FLAGS_case_mix);
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    const std::vector<absl::string_view> parts = absl::StrSplit(entry, ':');
    MixCase mix_case;
    mix_case.case_id = std::string(parts[0]);
    mix_case.timeout = timeout;
    int code = 0;
    if (parts.size() > 4 || mix_case.case_id.empty() ||
        (parts.size() > 1 &&
         (!absl::SimpleAtoi(parts[1], &mix_case.weight) || mix_case.weight < 0)) ||
        (parts.size() > 2 && (!absl::SimpleAtoi(parts[2], &code) || code < 0 || code > 16)) ||
        (parts.size() > 3 && !absl::ParseDuration(parts[3], &mix_case.timeout))) {
      std::cerr << "loadgen: bad --case_mix entry '" << entry << "'" << std::endl;
      std::exit(64);
    }
    mix_case.code = static_cast<grpc::StatusCode>(code);
    mix.weights.push_back(mix_case.weight);
    mix.cases.push_back(std::move(mix_case));
  }
  mix.mixed = !mix.cases.empty() || absl::GetFlag(FLAGS_cancel_fraction) > 0;
  if (mix.cases.empty()) {
    mix.cases.push_back(MixCase{"bench-case", 1, grpc::StatusCode::OK, timeout});
    mix.weights.push_back(1);
  }
  mix.cancel_fraction = absl::GetFlag(FLAGS_cancel_fraction);
  mix.cancel_after = absl::GetFlag(FLAGS_cancel_after);
  return mix;
}

// Cancels calls at the times asked for, from a thread of its own. It keeps
// each call's context alive until then: cancelling a call that has finished
// meanwhile does nothing.
class Canceller {
 public:
  Canceller() : thread_([this] { Run(); }) {}
  ~Canceller() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    changed_.notify_one();
    thread_.join();
  }

  void Schedule(Clock::time_point when, std::shared_ptr<grpc::ClientContext> context) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      due_.emplace(when, std::move(context));
    }
    changed_.notify_one();
  }

 private:
  using Entry = std::pair<Clock::time_point, std::shared_ptr<grpc::ClientContext>>;
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const { return a.first > b.first; }
  };

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (due_.empty()) {
        changed_.wait(lock);
        continue;
      }
      if (changed_.wait_until(lock, due_.top().first) == std::cv_status::no_timeout) continue;
      if (due_.empty() || due_.top().first > Clock::now()) continue;
      std::shared_ptr<grpc::ClientContext> context = due_.top().second;
      due_.pop();
      // Unlocked: the call's callback may run inside TryCancel and schedule
      // the worker's next cancellation.
      lock.unlock();
      context->TryCancel();
      context.reset();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::priority_queue<Entry, std::vector<Entry>, Later> due_;
  bool stop_ = false;
  std::thread thread_;
};

// Measurement window shared by all workers.
struct Window {
  Clock::time_point start;
  Clock::time_point end;
  // No new calls.
  std::atomic<bool> stop{false};
  // The calls still running were given up on: they are counted as
  // unfinished, whatever their callbacks say.
  std::atomic<bool> given_up{false};

  // The whole second of the window that `when` falls in, or -1 (also in a
  // last, partial second).
  int Second(Clock::time_point when) const {
    if (when < start || when >= end) return -1;
    const int second =
        static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(when - start).count());
    return second < seconds() ? second : -1;
  }
  int seconds() const {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(end - start).count());
  }
};

class GrpcWorker {
 public:
  GrpcWorker(huaweicloud::osm::v2::MessageService::Stub* stub, Window* window, int id,
             std::atomic<int>* running, const Mix* mix, Canceller* canceller)
      : stub_(stub),
        window_(window),
        running_(running),
        mix_(mix),
        canceller_(canceller),
        random_(static_cast<std::uint64_t>(id)),
        pick_case_(mix->weights.begin(), mix->weights.end()) {
    request_.set_message_id(absl::StrCat("msg-", id));
    tally_.per_second.resize(static_cast<std::size_t>(std::max(window->seconds(), 0)));
  }

  void Issue() {
    case_ = &mix_->cases[pick_case_(random_)];
    request_.set_case_id(case_->case_id);
    context_ = std::make_shared<grpc::ClientContext>();
    context_->AddMetadata("x-auth-token", absl::GetFlag(FLAGS_token));
    context_->set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoNanoseconds(case_->timeout));
    cancel_ = mix_->cancel_fraction > 0 &&
              std::uniform_real_distribution<double>(0, 1)(random_) < mix_->cancel_fraction;
    const Clock::time_point cancel_at =
        Clock::now() + std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(
                           0, absl::ToInt64Nanoseconds(mix_->cancel_after))(random_));
    // From the call's start on, its callback may run (and issue the next
    // call) at any time: only locals are used after it.
    std::shared_ptr<grpc::ClientContext> context = context_;
    {
      std::lock_guard<std::mutex> lock(in_flight_mu_);
      in_flight_ = context;
    }
    const bool cancel = cancel_;
    Canceller* const canceller = canceller_;
    started_ = Clock::now();
    stub_->async()->Withdraw(context.get(), &request_, &response_,
                             [this](grpc::Status status) { OnDone(std::move(status)); });
    if (cancel) canceller->Schedule(cancel_at, std::move(context));
  }

  // Cancels the call in flight, if any (harmless on one that has ended).
  void CancelInFlight() {
    std::lock_guard<std::mutex> lock(in_flight_mu_);
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }

  Tally& tally() { return tally_; }

 private:
  void OnDone(grpc::Status status) {
    const Clock::time_point now = Clock::now();
    // Every call started in the window is checked, whenever it ends; one
    // given up on is counted by RunGrpc() as unfinished instead.
    const bool in_window =
        started_ >= window_->start && started_ < window_->end && !window_->given_up.load();
    if (in_window && now > window_->end) ++tally_.after_window;
    if (in_window && now <= window_->end) {
      if (status.ok()) {
        ++tally_.ok;
        tally_.latencies_ns.push_back((now - started_).count());
      } else {
        ++tally_.errors[absl::StrCat(static_cast<int>(status.error_code()), " ",
                                     status.error_message().substr(0, 80))];
      }
      if (const int second = window_->Second(now); second >= 0) {
        ++tally_.per_second[static_cast<std::size_t>(second)];
      }
    }
    if (in_window) {
      if (mix_->mixed) {
        if (cancel_) ++tally_.cancelled_by_client;
        if (status.error_code() == case_->code ||
            (cancel_ && status.error_code() == grpc::StatusCode::CANCELLED)) {
          ++tally_.expected;
        } else {
          ++tally_
                .unexpected[absl::StrCat(case_->case_id, " ", static_cast<int>(status.error_code()),
                                         " ", status.error_message().substr(0, 80))];
        }
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
  const Mix* mix_;
  Canceller* canceller_;
  std::mt19937_64 random_;
  std::discrete_distribution<std::size_t> pick_case_;
  huaweicloud::osm::v2::WithdrawRequest request_;
  huaweicloud::osm::v2::WithdrawResponse response_;
  // Shared with the canceller when the call is to be cancelled.
  std::shared_ptr<grpc::ClientContext> context_;
  // The call in flight's context, for CancelInFlight() from another thread.
  std::mutex in_flight_mu_;
  std::shared_ptr<grpc::ClientContext> in_flight_;
  // The call in flight: its case, and whether it is to be cancelled.
  const MixCase* case_ = nullptr;
  bool cancel_ = false;
  Clock::time_point started_;
  Tally tally_;
};

// What RunGrpc() saw.
struct GrpcRun {
  std::vector<Tally> tallies;
  // Calls still running when the window's end plus the longest deadline plus
  // 5 s had passed.
  std::int64_t unfinished = 0;
  // Some of those did not even end when cancelled: the process must exit
  // without destroying what they use.
  bool stuck = false;
};

GrpcRun RunGrpc(Window& window, const Mix& mix) {
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
  // On the heap: left alone, with the rest, if calls never end.
  auto canceller = std::make_unique<Canceller>();
  std::vector<std::unique_ptr<GrpcWorker>> workers;
  for (int c = 0; c < connections; ++c) {
    for (int s = 0; s < streams; ++s) {
      workers.push_back(std::make_unique<GrpcWorker>(stubs[c].get(), &window, c * streams + s,
                                                     &running, &mix, canceller.get()));
    }
  }
  for (auto& worker : workers) worker->Issue();
  std::this_thread::sleep_until(window.end);
  window.stop = true;
  // The calls in flight end by their deadline (a cancellation only ends
  // them sooner); 5 s more for a loaded machine.
  absl::Duration longest = absl::ZeroDuration();
  for (const MixCase& mix_case : mix.cases) longest = std::max(longest, mix_case.timeout);
  auto wait_until = [&](Clock::time_point until) {
    while (running.load() > 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return running.load() == 0;
  };
  GrpcRun run;
  if (!wait_until(Clock::now() + absl::ToChronoNanoseconds(longest + absl::Seconds(5)))) {
    window.given_up = true;
    run.unfinished = running.load();
    for (auto& worker : workers) worker->CancelInFlight();
    run.stuck = !wait_until(Clock::now() + std::chrono::seconds(5));
  }
  for (auto& worker : workers) run.tallies.push_back(std::move(worker->tally()));
  if (run.stuck) {
    // Calls still use the workers, stubs and canceller: leave them be.
    for (auto& worker : workers) worker.release();
    for (auto& stub : stubs) stub.release();
    canceller.release();
  }
  return run;
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
      tally.per_second.resize(static_cast<std::size_t>(std::max(window.seconds(), 0)));
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
        if (const int second = window.Second(now); second >= 0) {
          ++tally.per_second[static_cast<std::size_t>(second)];
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
  const Mix mix = ParseMix();
  GrpcRun run;
  if (rest) {
    run.tallies = RunRest(window);
  } else {
    run = RunGrpc(window, mix);
  }
  std::vector<Tally>& tallies = run.tallies;

  std::vector<std::int64_t> latencies;
  std::map<std::string, std::int64_t> errors;
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  std::int64_t expected = 0;
  std::int64_t cancelled_by_client = 0;
  std::map<std::string, std::int64_t> unexpected;
  std::int64_t unexpected_count = 0;
  std::int64_t after_window = 0;
  std::vector<std::int64_t> per_second(static_cast<std::size_t>(std::max(window.seconds(), 0)));
  for (Tally& tally : tallies) {
    latencies.insert(latencies.end(), tally.latencies_ns.begin(), tally.latencies_ns.end());
    ok += tally.ok;
    after_window += tally.after_window;
    for (std::size_t i = 0; i < tally.per_second.size() && i < per_second.size(); ++i) {
      per_second[i] += tally.per_second[i];
    }
    for (const auto& [key, count] : tally.errors) {
      errors[key] += count;
      failed += count;
    }
    expected += tally.expected;
    cancelled_by_client += tally.cancelled_by_client;
    for (const auto& [key, count] : tally.unexpected) {
      unexpected[key] += count;
      unexpected_count += count;
    }
  }
  if (run.unfinished > 0) {
    const std::string key = "unfinished: no end within the deadline and 5 s after the window";
    if (mix.mixed) {
      unexpected[key] += run.unfinished;
      unexpected_count += run.unfinished;
    } else {
      errors[key] += run.unfinished;
      failed += run.unfinished;
    }
  }
  const std::int64_t slowest_second =
      per_second.empty() ? 0 : *std::min_element(per_second.begin(), per_second.end());
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) -> double {
    if (latencies.empty()) return 0;
    const auto index = static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1));
    return static_cast<double>(latencies[index]) / 1000.0;
  };
  double sum = 0;
  for (std::int64_t latency : latencies) sum += static_cast<double>(latency);
  const double seconds = absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration));
  auto json_counts = [](const std::map<std::string, std::int64_t>& counts) {
    std::string json;
    for (const auto& [key, count] : counts) {
      std::string escaped;
      for (char c : key) {
        if (c == '"' || c == '\\') escaped.push_back('\\');
        escaped.push_back(c);
      }
      absl::StrAppend(&json, json.empty() ? "" : ",", "\"", escaped, "\":", count);
    }
    return json;
  };
  const std::string error_json = json_counts(errors);
  std::cout << "{\"calls\":" << ok + failed << ",\"ok\":" << ok << ",\"failed\":" << failed
            << ",\"errors\":{" << error_json << "},\"seconds\":" << seconds
            << ",\"rps\":" << static_cast<double>(ok + failed) / seconds
            << ",\"mean_us\":" << (latencies.empty() ? 0 : sum / latencies.size() / 1000.0)
            << ",\"p50_us\":" << percentile(0.50) << ",\"p90_us\":" << percentile(0.90)
            << ",\"p99_us\":" << percentile(0.99) << ",\"p999_us\":" << percentile(0.999)
            << ",\"max_us\":" << percentile(1.0) << ",\"slowest_second\":" << slowest_second
            << ",\"after_window\":" << after_window << ",\"unfinished\":" << run.unfinished;
  if (mix.mixed) {
    std::cout << ",\"expected\":" << expected << ",\"unexpected\":" << unexpected_count
              << ",\"unexpected_errors\":{" << json_counts(unexpected) << "}"
              << ",\"cancelled_by_client\":" << cancelled_by_client;
  }
  std::cout << "}" << std::endl;
  // Calls still running use what the exit would destroy.
  if (run.stuck) std::_Exit(1);
  if (mix.mixed) return unexpected_count == 0 ? 0 : 1;
  return failed == 0 ? 0 : 1;
}
