#include "server/upstream/curl_upstream_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/base/mutex.h"

namespace osm {
namespace {

// One request in flight, owned by its loop from Start() until its callback.
struct Transfer {
  UpstreamClient::TransferId id = 0;
  HttpRequest request;
  UpstreamClient::Callback done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  long timeout_ms = 0;
  // The blank line that ends the final response's headers was seen.
  bool headers_complete = false;
  // Attempts so far; more than one only after failures that provably
  // happened before anything was sent.
  int attempts = 0;
  char error[CURL_ERROR_SIZE] = {};
};

// Failures that happen before a single byte of the request has left: the
// upstream cannot have seen it, so trying again is safe even for a call that
// is not idempotent.
bool FailedBeforeSending(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_SSL_CONNECT_ERROR;
}

struct Command {
  enum class Kind { kNone, kStart, kCancel };
  Kind kind;
  UpstreamClient::TransferId id;
  std::unique_ptr<Transfer> transfer;  // kStart only
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string& body = transfer->response.body;
  if (body.size() + bytes > kMaxResponseBodyBytes) {
    // CURLOPT_MAXFILESIZE does not stop a chunked body: stop it here.
    transfer->response.body_truncated = true;
    return CURL_WRITEFUNC_ERROR;
  }
  body.append(data, bytes);
  return bytes;
}

// Keeps the headers the mapping needs. Called once per header line, for the
// status line of every response (interim ones included) too.
std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    transfer->response.request_id.clear();
    transfer->response.retry_after.clear();
    transfer->headers_complete = false;
    return bytes;
  }
  if (line == "\r\n" || line == "\n") {
    transfer->headers_complete = true;
    return bytes;
  }
  const std::size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return bytes;
  const absl::string_view name = line.substr(0, colon);
  const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  if (absl::EqualsIgnoreCase(name, "x-request-id")) {
    transfer->response.request_id.assign(value.data(), value.size());
  } else if (absl::EqualsIgnoreCase(name, "retry-after")) {
    transfer->response.retry_after.assign(value.data(), value.size());
  }
  return bytes;
}

// A transport failure as the UpstreamClient contract describes it.
absl::Status TransportError(CURLcode code, const Transfer& transfer, long timeout_ms) {
  const char* detail = transfer.error[0] != '\0' ? transfer.error : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(
          absl::StrCat("no complete answer within ", timeout_ms, " ms"));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:  // how 7.88 reports an answer that is not HTTP
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return absl::UnavailableError(detail);
    case CURLE_PEER_FAILED_VERIFICATION:
      return absl::UnavailableError(
          absl::StrCat("the upstream's TLS certificate was not trusted: ", detail));
    default:
      return absl::InternalError(detail);
  }
}

}  // namespace

// TLS sessions shared by the easy handles of every loop. Each loop's multi
// handle keeps its own connections; with this, a new connection (another
// loop's, or one after the upstream closed the last) resumes an earlier TLS
// session instead of making a full handshake.
class TlsSessionShare {
 public:
  static absl::StatusOr<std::shared_ptr<TlsSessionShare>> Create() {
    std::shared_ptr<TlsSessionShare> share(new TlsSessionShare());
    share->share_ = curl_share_init();
    if (share->share_ == nullptr) return absl::InternalError("curl_share_init failed");
    if (curl_share_setopt(share->share_, CURLSHOPT_LOCKFUNC, &TlsSessionShare::Lock) !=
            CURLSHE_OK ||
        curl_share_setopt(share->share_, CURLSHOPT_UNLOCKFUNC, &TlsSessionShare::Unlock) !=
            CURLSHE_OK ||
        curl_share_setopt(share->share_, CURLSHOPT_USERDATA, share.get()) != CURLSHE_OK ||
        curl_share_setopt(share->share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
            CURLSHE_OK) {
      return absl::InternalError("cannot share TLS sessions (curl_share_setopt)");
    }
    return share;
  }
  ~TlsSessionShare() {
    if (share_ != nullptr) curl_share_cleanup(share_);
  }
  TlsSessionShare(const TlsSessionShare&) = delete;
  TlsSessionShare& operator=(const TlsSessionShare&) = delete;

  CURLSH* get() const { return share_; }

 private:
  TlsSessionShare() = default;

  // curl brackets every use of shared data with these, from any loop thread.
  static void Lock(CURL* /*easy*/, curl_lock_data data, curl_lock_access /*access*/, void* self) {
    static_cast<TlsSessionShare*>(self)->mutexes_[data].lock();
  }
  static void Unlock(CURL* /*easy*/, curl_lock_data data, void* self) {
    static_cast<TlsSessionShare*>(self)->mutexes_[data].unlock();
  }

  CURLSH* share_ = nullptr;
  std::mutex mutexes_[CURL_LOCK_DATA_LAST];
};

// One event loop: a multi handle, the epoll set its sockets live in, and the
// thread that waits on it.
//
// All curl state is guarded by `mu_`. The loop thread takes it whenever
// epoll reports something. A thread that starts or cancels a transfer while
// the loop is lightly loaded takes it too, if it is free, and does the work
// in place (so a request is on the wire without waking the loop); otherwise
// it queues a command, and wakes the loop only if the loop sleeps. Callbacks
// always run after `mu_` is released.
class CurlLoop {
 public:
  // `tls_sessions` may be null.
  static absl::StatusOr<std::unique_ptr<CurlLoop>> Create(
      const CurlUpstreamClient::Options& options, int max_connections,
      std::shared_ptr<TlsSessionShare> tls_sessions);
  ~CurlLoop();

  // Runs `command` now if the loop is lightly loaded and free, else queues
  // it. Thread-safe.
  void Submit(Command command);
  // Transfers submitted and not yet called back: how busy the loop is.
  int load() const { return load_.load(std::memory_order_relaxed); }
  // Makes the loop cancel what is running and return; joins it. Called by
  // the owner only.
  void Stop();

 private:
  // A finished transfer whose callback is still to run.
  struct Finished {
    UpstreamClient::Callback done;
    absl::StatusOr<HttpResponse> outcome;
  };

  CurlLoop(const CurlUpstreamClient::Options& options, int max_connections,
           std::shared_ptr<TlsSessionShare> tls_sessions)
      : options_(options),
        max_connections_(max_connections),
        tls_sessions_(std::move(tls_sessions)) {}
  absl::Status Init();
  void Run();
  // Everything below runs with `mu_` held.
  void Execute(Command& command) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartTransfer(std::unique_ptr<Transfer> transfer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelTransfer(UpstreamClient::TransferId id, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lets curl act on expired timers, collects finished transfers, expires
  // overdue ones and re-arms the timer.
  void Settle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lets curl act on its timer now.
  void RunCurlTimers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadCompletions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ExpireTransfers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmTimer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a transfer that failed before sending anything off curl and
  // schedules another attempt, if attempts and time remain.
  bool ScheduleRetry(std::unique_ptr<Transfer>& transfer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the retries that are due; true if any was.
  bool StartDueRetries(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DetachFromCurl(Transfer& transfer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Detaches the transfer from curl and queues its callback.
  void Complete(std::unique_ptr<Transfer> transfer, absl::StatusOr<HttpResponse> outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CURL* TakeEasyHandle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchSocket(int fd, std::uint32_t events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Releases `mu_`, then runs the callbacks of what finished meanwhile.
  void UnlockAndRunCallbacks() ABSL_UNLOCK_FUNCTION(mu_);

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* loop, void* socket_data);
  static int OnTimer(CURLM* multi, long timeout_ms, void* loop);
  static curl_socket_t OnOpenSocket(void* loop, curlsocktype purpose, curl_sockaddr* address);
  static int OnCloseSocket(void* loop, curl_socket_t fd);

  const CurlUpstreamClient::Options options_;
  const int max_connections_;
  // Released after the destructor has cleaned up every easy handle.
  const std::shared_ptr<TlsSessionShare> tls_sessions_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;
  std::thread thread_;

  // Commands submitted while `mu_` was busy; the loop runs them next. A lock
  // of its own, so that a submitter never waits for the loop's work.
  Mutex queue_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::vector<Command> pending_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  // The loop thread has returned: commands are answered where submitted.
  bool exited_ ABSL_GUARDED_BY(queue_mu_) = false;
  // The loop is in (or about to enter) epoll_wait with nothing queued.
  bool sleeping_ ABSL_GUARDED_BY(queue_mu_) = false;

  Mutex mu_;
  CURLM* multi_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::flat_hash_map<UpstreamClient::TransferId, std::unique_ptr<Transfer>> active_
      ABSL_GUARDED_BY(mu_);
  std::vector<CURL*> idle_easy_ ABSL_GUARDED_BY(mu_);
  std::vector<Finished> finished_ ABSL_GUARDED_BY(mu_);
  // What curl asked for with its timer callback.
  absl::Time curl_timer_due_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // What the timerfd is armed for.
  absl::Time timer_armed_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Every transfer's deadline, earliest first, enforced here as well as by
  // curl: curl 7.88 never times out a transfer that is still queued for a
  // connection. Entries of finished transfers are skipped when they surface.
  using DeadlineEntry = std::pair<absl::Time, UpstreamClient::TransferId>;
  std::priority_queue<DeadlineEntry, std::vector<DeadlineEntry>, std::greater<>> deadlines_
      ABSL_GUARDED_BY(mu_);
  // curl's sockets in the epoll set. A socket that curl stops watching (an
  // idle keep-alive connection) stays registered, so the next transfer on it
  // usually needs no epoll_ctl at all; if it reports an event meanwhile, it
  // is removed then.
  struct Socket {
    std::uint32_t events = 0;  // registered for
    bool watched = false;      // curl wants to hear about it
  };
  absl::flat_hash_map<int, Socket> sockets_ ABSL_GUARDED_BY(mu_);
  // Transfers waiting to be tried again, and when.
  absl::flat_hash_map<UpstreamClient::TransferId, std::unique_ptr<Transfer>> waiting_
      ABSL_GUARDED_BY(mu_);
  std::priority_queue<DeadlineEntry, std::vector<DeadlineEntry>, std::greater<>> retries_
      ABSL_GUARDED_BY(mu_);
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
  // Transfers submitted whose callbacks have not run yet.
  std::atomic<int> load_{0};
};

absl::StatusOr<std::unique_ptr<CurlLoop>> CurlLoop::Create(
    const CurlUpstreamClient::Options& options, int max_connections,
    std::shared_ptr<TlsSessionShare> tls_sessions) {
  std::unique_ptr<CurlLoop> loop(new CurlLoop(options, max_connections, std::move(tls_sessions)));
  if (absl::Status status = loop->Init(); !status.ok()) return status;
  loop->thread_ = std::thread([raw = loop.get()] { raw->Run(); });
  return loop;
}

absl::Status CurlLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0 || timer_fd_ < 0) {
    return absl::InternalError(absl::StrCat("epoll/eventfd/timerfd: ", std::strerror(errno)));
  }
  for (int fd : {wake_fd_, timer_fd_}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
    }
  }
  MutexLock lock(&mu_);
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlLoop::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlLoop::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(max_connections_));
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(max_connections_));
  // Keep every connection of a busy period for reuse.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(max_connections_));
  return absl::OkStatus();
}

CurlLoop::~CurlLoop() {
  Stop();
  {
    MutexLock lock(&mu_);
    for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
  }
  for (int fd : {wake_fd_, timer_fd_, epoll_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void CurlLoop::Submit(Command command) {
  // A lightly loaded loop is asleep or about to be: doing the work here
  // saves waking it (the latency of one call in flight). A busy loop is
  // awake anyway and does the queued work in batches, without the two
  // threads contending for `mu_` (measured: BENCHMARKS.md).
  constexpr int kInPlaceBelow = 4;
  const int load = command.kind == Command::Kind::kStart
                       ? load_.fetch_add(1, std::memory_order_relaxed)
                       : load_.load(std::memory_order_relaxed);
  if (load >= kInPlaceBelow || !mu_.TryLock()) {
    bool wake = false;
    {
      MutexLock lock(&queue_mu_);
      if (!exited_) {
        pending_.push_back(std::move(command));
        // Only a sleeping loop needs waking, and only once.
        wake = sleeping_;
        sleeping_ = false;
        command.kind = Command::Kind::kNone;
      }
    }
    if (command.kind == Command::Kind::kNone) {
      if (wake) {
        const std::uint64_t one = 1;
        [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
      }
      return;
    }
    mu_.Lock();  // the loop has exited: answer here
  }
  Execute(command);
  Settle();
  UnlockAndRunCallbacks();
}

void CurlLoop::Execute(Command& command) {
  bool stopping;
  {
    MutexLock lock(&queue_mu_);
    stopping = stopping_;
  }
  switch (command.kind) {
    case Command::Kind::kNone:
      break;
    case Command::Kind::kStart:
      if (stopping) {
        Complete(std::move(command.transfer), absl::CancelledError("the adapter is shutting down"));
      } else {
        StartTransfer(std::move(command.transfer));
      }
      break;
    case Command::Kind::kCancel:
      CancelTransfer(command.id, "cancelled by the caller");
      break;
  }
}

void CurlLoop::Stop() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

void CurlLoop::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  std::vector<Command> commands;
  while (true) {
    int timeout_ms = 0;
    {
      MutexLock lock(&queue_mu_);
      if (pending_.empty() && !stopping_) {
        sleeping_ = true;
        timeout_ms = -1;
      }
    }
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (ready < 0 && errno != EINTR) std::abort();  // only a programming error gets here
    mu_.Lock();
    int running = 0;
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_ || fd == timer_fd_) {
        std::uint64_t count;
        [[maybe_unused]] ssize_t got = read(fd, &count, sizeof(count));
        if (fd == timer_fd_) timer_armed_ = absl::InfiniteFuture();
        continue;
      }
      if (auto it = sockets_.find(fd); it == sockets_.end() || !it->second.watched) {
        // An idle keep-alive socket curl no longer watches (the server
        // closed it, most likely): stop hearing about it.
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        sockets_.erase(fd);
        continue;
      }
      int mask = 0;
      if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, fd, mask, &running);
    }
    bool exiting;
    {
      MutexLock lock(&queue_mu_);
      commands.swap(pending_);
      sleeping_ = false;
      exiting = stopping_;
      // From now on, submitters run their commands themselves.
      exited_ = exiting;
    }
    for (Command& command : commands) Execute(command);
    commands.clear();
    if (exiting) CancelAll();
    Settle();
    UnlockAndRunCallbacks();
    if (exiting) return;
  }
}

void CurlLoop::CancelAll() {
  std::vector<UpstreamClient::TransferId> ids;
  ids.reserve(active_.size() + waiting_.size());
  for (const auto& [id, transfer] : active_) ids.push_back(id);
  for (const auto& [id, transfer] : waiting_) ids.push_back(id);
  for (UpstreamClient::TransferId id : ids) CancelTransfer(id, "the adapter is shutting down");
}

void CurlLoop::Settle() {
  const absl::Time now = absl::Now();
  if (curl_timer_due_ <= now) RunCurlTimers();
  ReadCompletions();
  ExpireTransfers(now);
  if (StartDueRetries(now)) {
    // A retry just started asks curl for an immediate timeout.
    RunCurlTimers();
    ReadCompletions();
  }
  ArmTimer();
}

void CurlLoop::RunCurlTimers() {
  curl_timer_due_ = absl::InfiniteFuture();
  int running = 0;
  curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
}

void CurlLoop::ArmTimer() {
  absl::Time due = curl_timer_due_;
  if (!deadlines_.empty()) due = std::min(due, deadlines_.top().first);
  if (!retries_.empty()) due = std::min(due, retries_.top().first);
  // Re-arm only for an earlier wake-up: a wake-up that comes too early just
  // re-arms for the right time.
  if (due >= timer_armed_) return;
  timer_armed_ = due;
  itimerspec spec{};
  if (due != absl::InfiniteFuture()) {
    const absl::Duration left = std::max(due - absl::Now(), absl::Nanoseconds(1));
    spec.it_value = absl::ToTimespec(left);
  }
  timerfd_settime(timer_fd_, 0, &spec, nullptr);
}

void CurlLoop::UnlockAndRunCallbacks() {
  std::vector<Finished> finished;
  finished.swap(finished_);
  mu_.Unlock();
  if (!finished.empty()) {
    load_.fetch_sub(static_cast<int>(finished.size()), std::memory_order_relaxed);
  }
  for (Finished& item : finished) std::move(item.done)(std::move(item.outcome));
}

CURL* CurlLoop::TakeEasyHandle() {
  if (!idle_easy_.empty()) {
    CURL* easy = idle_easy_.back();
    idle_easy_.pop_back();
    return easy;
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return nullptr;
  // Options that are the same for every transfer: set once per handle.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, options_.scheme.c_str());
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, options_.scheme.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlLoop::OnOpenSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlLoop::OnCloseSocket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (tls_sessions_ != nullptr) curl_easy_setopt(easy, CURLOPT_SHARE, tls_sessions_->get());
  if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (options_.http2) {
    curl_easy_setopt(
        easy, CURLOPT_HTTP_VERSION,
        options_.scheme == "https" ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    // Wait for a multiplexed connection rather than opening another. Never
    // with HTTP/1.1: every transfer would wait for the first one's answer.
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  }
  return easy;
}

void CurlLoop::StartTransfer(std::unique_ptr<Transfer> transfer) {
  const absl::Duration left = transfer->request.deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    Complete(std::move(transfer),
             absl::DeadlineExceededError("the deadline passed before the request was sent"));
    return;
  }
  CURL* easy = TakeEasyHandle();
  if (easy == nullptr) {
    Complete(std::move(transfer), absl::InternalError("curl_easy_init failed"));
    return;
  }
  for (const std::string& header : transfer->request.headers) {
    curl_slist* appended = curl_slist_append(transfer->headers, header.c_str());
    if (appended == nullptr) {
      idle_easy_.push_back(easy);
      Complete(std::move(transfer), absl::InternalError("out of memory"));
      return;
    }
    transfer->headers = appended;
  }
  ++transfer->attempts;
  const long timeout_ms = static_cast<long>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)))));
  curl_easy_setopt(easy, CURLOPT_URL, transfer->request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  transfer->timeout_ms = timeout_ms;
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  transfer->easy = easy;
  const UpstreamClient::TransferId id = transfer->id;
  Transfer* raw = transfer.get();
  deadlines_.emplace(transfer->request.deadline, id);
  active_.emplace(id, std::move(transfer));
  if (CURLMcode added = curl_multi_add_handle(multi_, easy); added != CURLM_OK) {
    auto node = active_.extract(id);
    raw->easy = nullptr;
    idle_easy_.push_back(easy);
    Complete(std::move(node.mapped()), absl::InternalError(absl::StrCat(
                                           "curl_multi_add_handle: ", curl_multi_strerror(added))));
  }
  // curl_multi_add_handle asked for an immediate timeout: the Settle() that
  // follows lets curl send the request.
}

void CurlLoop::CancelTransfer(UpstreamClient::TransferId id, absl::string_view why) {
  auto node = active_.extract(id);
  if (node.empty()) node = waiting_.extract(id);
  if (node.empty()) return;  // already finished
  Complete(std::move(node.mapped()), absl::CancelledError(why));
}

void CurlLoop::ExpireTransfers(absl::Time now) {
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const UpstreamClient::TransferId id = deadlines_.top().second;
    deadlines_.pop();
    auto node = active_.extract(id);
    if (node.empty()) node = waiting_.extract(id);
    if (node.empty()) continue;  // finished already
    const long timeout_ms = node.mapped()->timeout_ms;
    Complete(std::move(node.mapped()), absl::DeadlineExceededError(absl::StrCat(
                                           "no complete answer within ", timeout_ms, " ms")));
  }
  // Keep the entries of finished transfers from piling up under load.
  if (deadlines_.size() > 2 * (active_.size() + waiting_.size()) + 1024) {
    std::vector<DeadlineEntry> live;
    live.reserve(active_.size() + waiting_.size());
    for (const auto& [id, transfer] : active_) live.emplace_back(transfer->request.deadline, id);
    for (const auto& [id, transfer] : waiting_) live.emplace_back(transfer->request.deadline, id);
    deadlines_ = decltype(deadlines_)(std::greater<>(), std::move(live));
  }
}

void CurlLoop::ReadCompletions() {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* raw = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &raw);
    const CURLcode code = message->data.result;
    auto node = active_.extract(raw->id);
    if (node.empty()) std::abort();  // every handle in the multi is in active_
    std::unique_ptr<Transfer> transfer = std::move(node.mapped());
    long status = 0;
    curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
    transfer->response.status = static_cast<int>(status);
    if (code == CURLE_OK && !transfer->headers_complete) {
      // libcurl 7.88 reports success for a response whose headers were cut
      // off by the connection closing; it is no answer at all.
      Complete(
          std::move(transfer),
          absl::UnavailableError("the connection closed before the end of the response headers"));
    } else if (code == CURLE_OK ||
               (code == CURLE_WRITE_ERROR && transfer->response.body_truncated)) {
      HttpResponse response = std::move(transfer->response);
      Complete(std::move(transfer), std::move(response));
    } else if (FailedBeforeSending(code) && ScheduleRetry(transfer)) {
      continue;
    } else {
      absl::Status error = TransportError(code, *transfer, transfer->timeout_ms);
      Complete(std::move(transfer), std::move(error));
    }
  }
}

bool CurlLoop::ScheduleRetry(std::unique_ptr<Transfer>& transfer) {
  if (transfer->attempts >= options_.max_attempts) return false;
  // Exponential backoff with full jitter in [0.5, 1.5) of the step.
  const absl::Duration step = options_.retry_backoff * (1 << (transfer->attempts - 1));
  const absl::Duration delay = step * absl::Uniform(random_, 0.5, 1.5);
  const absl::Time ready = absl::Now() + delay;
  // Only if the next attempt has a fair chance inside the deadline.
  if (ready + step >= transfer->request.deadline) return false;
  DetachFromCurl(*transfer);
  transfer->error[0] = '\0';
  transfer->response = HttpResponse();
  transfer->headers_complete = false;
  if (options_.retries_counter != nullptr) options_.retries_counter->Increment();
  const UpstreamClient::TransferId id = transfer->id;
  retries_.emplace(ready, id);
  waiting_.emplace(id, std::move(transfer));
  return true;
}

bool CurlLoop::StartDueRetries(absl::Time now) {
  bool started = false;
  while (!retries_.empty() && retries_.top().first <= now) {
    const UpstreamClient::TransferId id = retries_.top().second;
    retries_.pop();
    auto node = waiting_.extract(id);
    if (node.empty()) continue;  // cancelled or expired meanwhile
    StartTransfer(std::move(node.mapped()));
    started = true;
  }
  return started;
}

void CurlLoop::DetachFromCurl(Transfer& transfer) {
  if (transfer.easy != nullptr) {
    curl_multi_remove_handle(multi_, transfer.easy);
    curl_easy_setopt(transfer.easy, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(transfer.easy, CURLOPT_ERRORBUFFER, nullptr);
    idle_easy_.push_back(transfer.easy);
    transfer.easy = nullptr;
  }
  curl_slist_free_all(transfer.headers);
  transfer.headers = nullptr;
}

void CurlLoop::Complete(std::unique_ptr<Transfer> transfer, absl::StatusOr<HttpResponse> outcome) {
  DetachFromCurl(*transfer);
  finished_.push_back(Finished{std::move(transfer->done), std::move(outcome)});
}

void CurlLoop::WatchSocket(int fd, std::uint32_t events) {
  auto [it, inserted] = sockets_.try_emplace(fd);
  Socket& socket = it->second;
  socket.watched = true;
  if (!inserted && socket.events == events) return;  // already so: no syscall
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  int op = inserted ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(epoll_fd_, op, fd, &event) != 0) {
    // Removed behind our back (closed and reused): start over.
    op = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    epoll_ctl(epoll_fd_, op, fd, &event);
  }
  socket.events = events;
}

int CurlLoop::OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* loop_ptr,
                       void* /*socket_data*/) {
  auto* loop = static_cast<CurlLoop*>(loop_ptr);
  loop->mu_.AssertHeld();  // curl calls back only from inside curl calls made under mu_
  if (what == CURL_POLL_REMOVE) {
    // Stays registered (see `sockets_`) until it reports an event or curl
    // closes it.
    if (auto it = loop->sockets_.find(fd); it != loop->sockets_.end()) it->second.watched = false;
    return 0;
  }
  std::uint32_t events = 0;
  if (what & CURL_POLL_IN) events |= EPOLLIN;
  if (what & CURL_POLL_OUT) events |= EPOLLOUT;
  loop->WatchSocket(fd, events);
  return 0;
}

curl_socket_t CurlLoop::OnOpenSocket(void* loop_ptr, curlsocktype /*purpose*/,
                                     curl_sockaddr* address) {
  auto* loop = static_cast<CurlLoop*>(loop_ptr);
  const curl_socket_t fd =
      socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd != CURL_SOCKET_BAD && loop->options_.connections_gauge != nullptr) {
    loop->options_.connections_gauge->Add(1);
  }
  return fd;
}

int CurlLoop::OnCloseSocket(void* loop_ptr, curl_socket_t fd) {
  auto* loop = static_cast<CurlLoop*>(loop_ptr);
  if (loop->options_.connections_gauge != nullptr) loop->options_.connections_gauge->Add(-1);
  loop->mu_.AssertHeld();
  // Closing removes it from the epoll set; forget it before the number is
  // reused.
  loop->sockets_.erase(fd);
  return close(fd);
}

int CurlLoop::OnTimer(CURLM* /*multi*/, long timeout_ms, void* loop_ptr) {
  auto* loop = static_cast<CurlLoop*>(loop_ptr);
  loop->mu_.AssertHeld();
  loop->curl_timer_due_ =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  return 0;
}

// ---- CurlUpstreamClient ----------------------------------------------------

absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> CurlUpstreamClient::Create(
    const Options& options) {
  static std::once_flag global_init;
  static CURLcode init_result = CURLE_OK;
  std::call_once(global_init, [] { init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_result != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(init_result)));
  }
  if (options.loop_threads < 1) return absl::InvalidArgumentError("loop_threads must be >= 1");
  if (options.max_connections < 1)
    return absl::InvalidArgumentError("max_connections must be >= 1");
  const int loop_count = std::min(options.loop_threads, options.max_connections);
  std::shared_ptr<TlsSessionShare> tls_sessions;
  if (options.scheme == "https") {
    absl::StatusOr<std::shared_ptr<TlsSessionShare>> share = TlsSessionShare::Create();
    if (!share.ok()) return share.status();
    tls_sessions = *std::move(share);
  }
  std::vector<std::unique_ptr<CurlLoop>> loops;
  for (int i = 0; i < loop_count; ++i) {
    // Each loop gets its share of the connection limit.
    const int share =
        options.max_connections / loop_count + (i < options.max_connections % loop_count ? 1 : 0);
    absl::StatusOr<std::unique_ptr<CurlLoop>> loop = CurlLoop::Create(options, share, tls_sessions);
    if (!loop.ok()) return loop.status();
    loops.push_back(*std::move(loop));
  }
  return std::unique_ptr<CurlUpstreamClient>(new CurlUpstreamClient(std::move(loops)));
}

CurlUpstreamClient::CurlUpstreamClient(std::vector<std::unique_ptr<CurlLoop>> loops)
    : loops_(std::move(loops)) {}

CurlUpstreamClient::~CurlUpstreamClient() {
  for (auto& loop : loops_) loop->Stop();
}

UpstreamClient::TransferId CurlUpstreamClient::Start(HttpRequest request, Callback done) {
  // The least loaded loop, the first on a tie: with few calls in flight
  // they all go to one loop, whose connections stay warm; under load the
  // loops share the work. The id names its loop (id % loops) for Cancel.
  std::size_t chosen = 0;
  int least = loops_[0]->load();
  for (std::size_t i = 1; i < loops_.size() && least > 0; ++i) {
    if (const int load = loops_[i]->load(); load < least) {
      least = load;
      chosen = i;
    }
  }
  const TransferId id = next_id_.fetch_add(1, std::memory_order_relaxed) * loops_.size() + chosen;
  auto transfer = std::make_unique<Transfer>();
  transfer->id = id;
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  loops_[chosen]->Submit(Command{Command::Kind::kStart, id, std::move(transfer)});
  return id;
}

void CurlUpstreamClient::Cancel(TransferId id) {
  loops_[id % loops_.size()]->Submit(Command{Command::Kind::kCancel, id, nullptr});
}

}  // namespace osm
