#include "tests/support/call_batch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/hand_off.h"

namespace osm::testing {

using huaweicloud::osm::v2::WithdrawRequest;

CallBatch::CallBatch(huaweicloud::osm::v2::MessageService::Stub* stub, int count,
                     absl::Duration timeout, const std::string& token,
                     std::function<WithdrawRequest(int)> request) {
  calls_.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) calls_.push_back(std::make_unique<Call>());
  for (int i = 0; i < count; ++i) {
    Call& call = *calls_[static_cast<std::size_t>(i)];
    if (request) {
      call.request = request(i);
    } else {
      call.request.set_case_id("case-1");
      call.request.set_message_id(absl::StrCat("msg-", i));
    }
    if (!token.empty()) call.context.AddMetadata("x-auth-token", token);
    call.context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    call.started = absl::Now();
    // gRPC runs the callback on its own thread, after the call started: an
    // ordering inside its core, which ThreadSanitizer cannot see.
    HandOffSent(&call);
    stub->async()->Withdraw(&call.context, &call.request, &call.response,
                            [this, &call](grpc::Status status) {
                              HandOffReceived(&call);
                              const absl::Time now = absl::Now();
                              MutexLock lock(&mu_);
                              call.took = now - call.started;
                              call.status = std::move(status);
                              ++done_;
                              changed_.NotifyAll();
                            });
  }
}

CallBatch::~CallBatch() {
  for (auto& call : calls_) call->context.TryCancel();
  MutexLock lock(&mu_);
  changed_.Wait(&mu_, [&] {
    mu_.AssertHeld();
    return done_ >= static_cast<int>(calls_.size());
  });
}

int CallBatch::WaitForAll(absl::Duration timeout) {
  MutexLock lock(&mu_);
  if (!changed_.WaitUntil(&mu_, absl::ToChronoTime(absl::Now() + timeout), [&] {
        mu_.AssertHeld();
        return done_ >= static_cast<int>(calls_.size());
      })) {
    return -1;
  }
  int ok = 0;
  for (const auto& call : calls_) ok += call->status.ok() ? 1 : 0;
  return ok;
}

void CallBatch::Cancel(std::size_t i) { calls_[i]->context.TryCancel(); }

std::vector<grpc::Status> CallBatch::Statuses() {
  MutexLock lock(&mu_);
  std::vector<grpc::Status> out;
  for (const auto& call : calls_) out.push_back(call->status);
  return out;
}

std::string CallBatch::FirstError() {
  MutexLock lock(&mu_);
  for (const auto& call : calls_) {
    if (!call->status.ok()) {
      return absl::StrCat(call->status.error_code(), ": ", call->status.error_message());
    }
  }
  return "";
}

absl::Duration CallBatch::took(std::size_t i) {
  MutexLock lock(&mu_);
  return calls_[i]->took;
}

int CallBatch::callbacks() {
  MutexLock lock(&mu_);
  return done_;
}

}  // namespace osm::testing
