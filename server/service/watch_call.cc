#include "server/service/watch_call.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/hand_off.h"
#include "server/observability/access_log.h"
#include "server/observability/log.h"
#include "server/osm/adapter_errors.h"
#include "server/osm/rich_status.h"
#include "server/service/adapter_metrics.h"
#include "server/service/operations.h"

namespace osm {
namespace {

using huaweicloud::osm::v2::PollNewMessagesRequest;
using huaweicloud::osm::v2::WatchNewMessagesRequest;

// A poll that failed with one of these is tried again after a backoff: OSM
// or the way to it may recover. Any other code ends the watch.
bool Transient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::ABORTED:
      return true;
    default:
      return false;
  }
}

PollNewMessagesRequest PollRequestFor(const WatchNewMessagesRequest& watch) {
  PollNewMessagesRequest poll;
  *poll.mutable_case_ids() = watch.case_ids();
  poll.set_last_message_time_id(watch.last_message_time_id());
  poll.set_group_id(watch.group_id());
  poll.set_keep_rich_text(watch.keep_rich_text());
  poll.set_language(watch.language());
  poll.set_time_zone(watch.time_zone());
  poll.set_site(watch.site());
  return poll;
}

}  // namespace

grpc::Status WatchRegistry::Admit(WatchCall* watch, absl::Duration retry_delay) {
  MutexLock lock(&mu_);
  if (closed_) {
    return AdapterError(AdapterReason::kShuttingDown,
                        "the adapter is shutting down; watch on another replica");
  }
  if (static_cast<int>(open_.size()) >= max_watches_) {
    const google::rpc::RetryInfo retry = RetryInfoFor(retry_delay);
    return AdapterError(AdapterReason::kTooManyWatches,
                        absl::StrCat("the adapter is serving its maximum of ", max_watches_,
                                     " watches; retry after ", absl::FormatDuration(retry_delay)),
                        {{"maxWatches", absl::StrCat(max_watches_)}}, {&retry});
  }
  open_.insert(watch);
  return grpc::Status::OK;
}

void WatchRegistry::Remove(WatchCall* watch) {
  MutexLock lock(&mu_);
  open_.erase(watch);
}

void WatchRegistry::Close() {
  std::size_t open;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    // Under the lock: a watch leaves the registry in its OnDone, before it
    // is deleted, so each one here is alive.
    for (WatchCall* watch : open_) watch->EndSoon();
    open = open_.size();
  }
  if (open > 0) Log(LogLevel::kInfo, "watches ending", {{"open", absl::StrCat(open)}});
}

WatchCall::WatchCall(UpstreamClient* upstream, const ServiceOptions& options, TimerQueue* timers,
                     WatchRegistry* registry, grpc::CallbackServerContext* context,
                     const WatchNewMessagesRequest* request)
    : upstream_(upstream),
      options_(options),
      timers_(timers),
      registry_(registry),
      context_(context),
      request_(request),
      started_(absl::Now()),
      deadline_(absl::FromChrono(context->deadline())),
      interval_(options.watch_interval) {
  HandOffSent(this);
}

void WatchCall::Start() {
  grpc::Status admitted = registry_->Admit(this, options_.overload_retry_delay);
  if (!admitted.ok()) {
    if (admitted.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      context_->AddTrailingMetadata(
          "grpc-retry-pushback-ms",
          absl::StrCat(absl::ToInt64Milliseconds(options_.overload_retry_delay)));
    }
    {
      MutexLock lock(&mu_);
      state_ = State::kFinished;
    }
    End(std::move(admitted));
    return;
  }
  admitted_ = true;
  if (options_.metrics != nullptr) options_.metrics->watches()->Add(1);
  const CallMetadata metadata = ReadCallMetadata(context_->client_metadata());
  const bool signing = options_.pipeline.credentials != nullptr;
  static const std::vector<absl::string_view> kNoTokens;
  grpc::Status valid = ValidateRequest(*request_, signing ? kNoTokens : metadata.tokens,
                                       /*token_required=*/!signing);
  if (!valid.ok()) {
    {
      MutexLock lock(&mu_);
      state_ = State::kFinished;
    }
    End(std::move(valid));
    return;
  }
  const absl::Duration asked = absl::Seconds(request_->poll_interval().seconds()) +
                               absl::Nanoseconds(request_->poll_interval().nanos());
  if (asked > absl::ZeroDuration()) interval_ = std::max(asked, options_.min_watch_interval);
  {
    MutexLock lock(&mu_);
    poll_ = PollRequestFor(*request_);
  }
  Poll();
}

void WatchCall::Poll() {
  PollNewMessagesRequest poll;
  grpc::Status ending;
  {
    MutexLock lock(&mu_);
    timer_ = 0;
    ending = EndingStatus();
    if (!ending.ok()) {
      state_ = State::kFinished;
    } else {
      state_ = State::kPolling;
      poll = poll_;
    }
  }
  if (!ending.ok()) {
    End(std::move(ending));
    return;
  }
  poll_started_ = absl::Now();
  PreparedCall prepared =
      PollNewMessagesOperation::Prepare(poll, ReadCallMetadata(context_->client_metadata()),
                                        absl::Now(), deadline_, options_.pipeline);
  if (!prepared.refusal.ok()) {
    // Nothing was sent: the caller's deadline passed, or the adapter cannot
    // sign now.
    const grpc::StatusCode code = prepared.refusal.error_code();
    if (code == grpc::StatusCode::DEADLINE_EXCEEDED || !Transient(code)) {
      {
        MutexLock lock(&mu_);
        state_ = State::kFinished;
      }
      End(std::move(prepared.refusal));
      return;
    }
    MutexLock lock(&mu_);
    ++failures_;
    WaitThenPoll(Backoff());
    return;
  }
  {
    MutexLock lock(&mu_);
    starting_ = true;
  }
  const UpstreamClient::TransferId id = upstream_->Start(
      std::move(prepared.http),
      [this, secrets = std::move(prepared.secrets)](absl::StatusOr<HttpResponse> outcome) {
        OnPollDone(std::move(outcome), secrets);
      });
  transfer_id_.store(id, std::memory_order_release);
  bool cancel;
  Next next;
  {
    MutexLock lock(&mu_);
    starting_ = false;
    // Cancelled while Start() ran: OnCancel may have found no id yet.
    cancel = cancelled_ && state_ == State::kPolling;
    next = std::exchange(deferred_, Next());
  }
  // Either, and nothing after it: both may end the watch, and OnDone
  // deletes it.
  if (cancel) {
    upstream_->Cancel(id);
  } else {
    Execute(std::move(next));
  }
}

void WatchCall::Execute(Next next) {
  switch (next.kind) {
    case Next::Kind::kNothing:
      break;
    case Next::Kind::kWrite:
      // batch_ is not touched again until OnWriteDone, which gRPC runs on
      // one of its threads once the write is done: an ordering inside its
      // core (server/base/hand_off.h).
      HandOffSent(this);
      StartWrite(&batch_);
      break;
    case Next::Kind::kWait: {
      MutexLock lock(&mu_);
      WaitThenPoll(next.delay);
      break;
    }
    case Next::Kind::kEnd:
      End(std::move(next.status));
      break;
  }
}

void WatchCall::OnPollDone(absl::StatusOr<HttpResponse> outcome, const CallSecrets& secrets) {
  const absl::Time now = absl::Now();
  MappedCall<huaweicloud::osm::v2::PollNewMessagesResponse> mapped =
      MapPollNewMessagesOutcome(outcome, now, secrets);
  if (options_.metrics != nullptr) {
    const absl::Duration elapsed = now - poll_started_;
    if (outcome.ok()) {
      options_.metrics->UpstreamAnswered(outcome->status, mapped.answer.error_code(), elapsed);
    } else {
      options_.metrics->UpstreamFailed(mapped.reason, elapsed);
    }
  }
  Next next;
  {
    MutexLock lock(&mu_);
    ++polls_;
    if (cancelled_) {
      state_ = State::kFinished;
      next = Next::End(EndingStatus());
    } else if (mapped.status.ok()) {
      failures_ = 0;
      if (!mapped.response.last_message_time_id().empty()) {
        poll_.set_last_message_time_id(mapped.response.last_message_time_id());
      }
      const bool anything_new =
          std::any_of(mapped.response.cases().begin(), mapped.response.cases().end(),
                      [](const auto& one_case) { return one_case.messages_size() > 0; });
      if (anything_new) {
        batch_.Clear();
        batch_.mutable_cases()->Swap(mapped.response.mutable_cases());
        batch_.mutable_read_statuses()->Swap(mapped.response.mutable_read_statuses());
        batch_.set_last_message_time_id(poll_.last_message_time_id());
        batch_.set_request_id(mapped.response.request_id());
        state_ = State::kWriting;
        next.kind = Next::Kind::kWrite;
      } else {
        next = Next::Wait(interval_);
      }
    } else if (!Transient(mapped.status.error_code())) {
      state_ = State::kFinished;
      reason_ = mapped.reason;
      next = Next::End(std::move(mapped.status));
    } else {
      ++failures_;
      next = Next::Wait(std::max(Backoff(), mapped.retry_delay.value_or(absl::ZeroDuration())));
    }
    // The poll's Start() is still running on another thread, or on this one
    // (the transfer ended inside it): it takes the next step when it
    // returns, so that the watch cannot end under it.
    if (starting_) {
      deferred_ = std::move(next);
      return;
    }
  }
  Execute(std::move(next));
}

void WatchCall::OnWriteDone(bool ok) {
  HandOffReceived(this);  // see Execute()
  MutexLock lock(&mu_);
  ++batches_;
  // Not ok: the stream is broken, the caller gone.
  if (!ok) cancelled_ = true;
  WaitThenPoll(cancelled_ || ending_ ? absl::ZeroDuration() : interval_);
}

void WatchCall::WaitThenPoll(absl::Duration delay) {
  state_ = State::kWaiting;
  if (cancelled_ || ending_) delay = absl::ZeroDuration();
  timer_ = timers_->Schedule(absl::Now() + delay, [this] { Poll(); });
}

grpc::Status WatchCall::EndingStatus() {
  if (cancelled_) return grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled");
  if (ending_) {
    return AdapterError(AdapterReason::kShuttingDown,
                        "the adapter is shutting down; resume the watch from the last "
                        "last_message_time_id on another replica");
  }
  return grpc::Status::OK;
}

absl::Duration WatchCall::Backoff() {
  absl::Duration step = options_.watch_backoff;
  for (int i = 1; i < failures_ && step < options_.max_watch_backoff; ++i) step *= 2;
  step = std::min(step, options_.max_watch_backoff);
  absl::BitGen random;
  return step * absl::Uniform(random, 0.5, 1.5);
}

void WatchCall::EndSoon() {
  MutexLock lock(&mu_);
  ending_ = true;
  // Waiting: end now, on the timer's thread (never inside the caller's
  // locks). Polling or writing: the watch ends when that is done.
  if (state_ == State::kWaiting && timer_ != 0 && timers_->Cancel(timer_)) {
    timer_ = timers_->Schedule(absl::Now(), [this] { Poll(); });
  }
}

void WatchCall::OnCancel() {
  HandOffReceived(this);
  bool end_now = false;
  UpstreamClient::TransferId transfer = 0;
  {
    MutexLock lock(&mu_);
    cancelled_ = true;
    if (state_ == State::kWaiting && timer_ != 0 && timers_->Cancel(timer_)) {
      timer_ = 0;
      state_ = State::kFinished;
      end_now = true;
    } else if (state_ == State::kPolling) {
      transfer = transfer_id_.load(std::memory_order_acquire);
    }
  }
  if (end_now) {
    End(grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled"));
    return;
  }
  UpstreamClient* const upstream = upstream_;
  // The last access to members: gRPC runs OnDone, which deletes the
  // reactor, after OnCancel (server/base/hand_off.h).
  HandOffSent(this);
  if (transfer != 0) upstream->Cancel(transfer);
}

void WatchCall::End(grpc::Status status) {
  code_ = status.error_code();
  if (!status.ok() && reason_.empty()) reason_ = ErrorInfoReason(status);
  HandOffSent(this);
  Finish(std::move(status));
}

void WatchCall::OnDone() {
  HandOffReceived(this);
  const absl::Duration total = absl::Now() - started_;
  if (admitted_) {
    registry_->Remove(this);
    if (options_.metrics != nullptr) options_.metrics->watches()->Add(-1);
  }
  if (options_.metrics != nullptr) {
    options_.metrics->StreamFinished(code_, total, RpcMethod::kWatchNewMessages);
  }
  if (options_.access_log != nullptr) {
    AccessLogEntry entry;
    entry.time = started_;
    entry.method = RpcMethodName(RpcMethod::kWatchNewMessages);
    entry.case_id = request_->case_ids().empty() ? absl::string_view() : request_->case_ids(0);
    entry.code = code_;
    entry.reason = reason_;
    entry.total = total;
    const std::string peer = context_->peer();
    entry.peer = peer;
    options_.access_log->Write(entry);
  }
  HandOffSent(&options_);
  delete this;
}

}  // namespace osm
