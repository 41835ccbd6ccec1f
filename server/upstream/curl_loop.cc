#include "server/upstream/curl_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace osm {

// ---- LoopInbox -----------------------------------------------------------------

bool LoopInbox::Post(LoopCommand& command, bool& wake) {
  MutexLock lock(&mu_);
  if (exited_) return false;
  pending_.push_back(std::move(command));
  command.kind = LoopCommand::Kind::kNone;
  // Only a sleeping loop needs waking, and only once.
  wake = sleeping_;
  sleeping_ = false;
  return true;
}

bool LoopInbox::MaySleep() {
  MutexLock lock(&mu_);
  sleeping_ = pending_.empty() && !stopping_;
  return sleeping_;
}

bool LoopInbox::TakeAll(std::vector<LoopCommand>& commands) {
  MutexLock lock(&mu_);
  commands.swap(pending_);
  sleeping_ = false;
  // From now on, submitters run their commands themselves.
  exited_ = stopping_;
  return stopping_;
}

void LoopInbox::RequestStop() {
  MutexLock lock(&mu_);
  stopping_ = true;
}

bool LoopInbox::stopping() {
  MutexLock lock(&mu_);
  return stopping_;
}

// ---- CurlLoop: life ------------------------------------------------------------

absl::StatusOr<std::unique_ptr<CurlLoop>> CurlLoop::Create(Options options) {
  std::unique_ptr<CurlLoop> loop(new CurlLoop(std::move(options)));
  if (absl::Status status = loop->Init(); !status.ok()) return status;
  loop->thread_ = std::thread([raw = loop.get()] {
    // Named for top -H, perf and /proc/PID/task/*/comm.
    pthread_setname_np(pthread_self(), "upstream-loop");
    raw->Run();
  });
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
  multi_.reset(curl_multi_init());
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  CURLM* multi = multi_.get();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &CurlLoop::OnSocket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &CurlLoop::OnTimer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  const long max_connections = options_.max_connections;
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_connections);
  // Keep every connection of a busy period for reuse.
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, max_connections);
  return absl::OkStatus();
}

CurlLoop::~CurlLoop() {
  Stop();
  {
    MutexLock lock(&mu_);
    idle_easy_.clear();
    multi_.reset();  // closes the connections: OnCloseSocket still works
  }
  for (int fd : {wake_fd_, timer_fd_, epoll_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void CurlLoop::Stop() {
  if (!thread_.joinable()) return;
  inbox_.RequestStop();
  Wake();
  thread_.join();
}

void CurlLoop::Wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
}

// ---- The protocol between the threads ------------------------------------------

void CurlLoop::Submit(LoopCommand command) {
  const int load = command.kind == LoopCommand::Kind::kStart
                       ? load_.fetch_add(1, std::memory_order_relaxed)
                       : load_.load(std::memory_order_relaxed);
  if (load >= kRunHereBelowLoad || !mu_.TryLock()) {
    // Hand over.
    bool wake = false;
    if (inbox_.Post(command, wake)) {
      if (wake) Wake();
      return;
    }
    mu_.Lock();  // the loop has exited: run here
  }
  Execute(command, inbox_.stopping());
  Settle();
  UnlockAndRunCallbacks();
}

void CurlLoop::Execute(LoopCommand& command, bool stopping) {
  switch (command.kind) {
    case LoopCommand::Kind::kNone:
      break;
    case LoopCommand::Kind::kStart:
      if (stopping) {
        Complete(std::move(command.transfer), absl::CancelledError("the adapter is shutting down"));
      } else {
        StartTransfer(std::move(command.transfer));
      }
      break;
    case LoopCommand::Kind::kCancel:
      CancelTransfer(command.id, "cancelled by the caller");
      break;
  }
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

// ---- The loop thread -------------------------------------------------------------

void CurlLoop::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  std::vector<LoopCommand> commands;
  while (true) {
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, inbox_.MaySleep() ? -1 : 0);
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
      curl_multi_socket_action(multi_.get(), fd, mask, &running);
    }
    const bool exiting = inbox_.TakeAll(commands);
    for (LoopCommand& command : commands) Execute(command, exiting);
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
  curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
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

// ---- Transfers -------------------------------------------------------------------

CurlEasy CurlLoop::TakeEasyHandle() {
  if (!idle_easy_.empty()) {
    CurlEasy easy = std::move(idle_easy_.back());
    idle_easy_.pop_back();
    return easy;
  }
  EasyHandleOptions options = options_.easy;
  options.tls_sessions = options_.tls_sessions != nullptr ? options_.tls_sessions->get() : nullptr;
  options.open_socket = &CurlLoop::OnOpenSocket;
  options.close_socket = &CurlLoop::OnCloseSocket;
  options.socket_data = this;
  return NewEasyHandle(options);
}

void CurlLoop::StartTransfer(std::unique_ptr<CurlTransfer> transfer) {
  const absl::Duration left = transfer->request.deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    Complete(std::move(transfer),
             absl::DeadlineExceededError("the deadline passed before the request was sent"));
    return;
  }
  CurlEasy easy = TakeEasyHandle();
  if (easy == nullptr) {
    Complete(std::move(transfer), absl::InternalError("curl_easy_init failed"));
    return;
  }
  const long timeout_ms = static_cast<long>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)))));
  if (absl::Status attached = transfer->Attach(std::move(easy), timeout_ms); !attached.ok()) {
    Complete(std::move(transfer), std::move(attached));
    return;
  }
  const UpstreamClient::TransferId id = transfer->id;
  CURL* handle = transfer->easy.get();
  deadlines_.emplace(transfer->request.deadline, id);
  active_.emplace(id, std::move(transfer));
  if (CURLMcode added = curl_multi_add_handle(multi_.get(), handle); added != CURLM_OK) {
    auto node = active_.extract(id);
    idle_easy_.push_back(node.mapped()->Release());
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
    deadlines_ = DeadlineQueue(std::greater<>(), std::move(live));
  }
}

void CurlLoop::ReadCompletions() {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CurlTransfer* raw = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &raw);
    const CURLcode code = message->data.result;
    auto node = active_.extract(raw->id);
    if (node.empty()) std::abort();  // every handle in the multi is in active_
    std::unique_ptr<CurlTransfer> transfer = std::move(node.mapped());
    const bool retryable = transfer->request.idempotent ? FailedWithoutAnswer(code)
                                                        : FailedBeforeSending(code);
    if (retryable && ScheduleRetry(transfer)) continue;
    absl::StatusOr<HttpResponse> outcome = TakeOutcome(code, *transfer);
    Complete(std::move(transfer), std::move(outcome));
  }
}

bool CurlLoop::ScheduleRetry(std::unique_ptr<CurlTransfer>& transfer) {
  const std::optional<absl::Time> next =
      options_.retry.NextAttempt(transfer->attempts, absl::Now(), transfer->request.deadline,
                                 absl::Uniform(random_, 0.5, 1.5));
  if (!next) return false;
  DetachFromCurl(*transfer);
  transfer->ResetForRetry();
  if (options_.retries_counter != nullptr) options_.retries_counter->Increment();
  const UpstreamClient::TransferId id = transfer->id;
  retries_.emplace(*next, id);
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

void CurlLoop::DetachFromCurl(CurlTransfer& transfer) {
  if (transfer.easy != nullptr) curl_multi_remove_handle(multi_.get(), transfer.easy.get());
  if (CurlEasy easy = transfer.Release(); easy != nullptr) idle_easy_.push_back(std::move(easy));
}

void CurlLoop::Complete(std::unique_ptr<CurlTransfer> transfer,
                        absl::StatusOr<HttpResponse> outcome) {
  DetachFromCurl(*transfer);
  finished_.push_back(Finished{std::move(transfer->done), std::move(outcome)});
}

// ---- libcurl's callbacks ---------------------------------------------------------

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

}  // namespace osm
