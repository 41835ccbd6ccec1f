#include "osm/client/withdraw_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <map>
#include <utility>

#include "osm/client/withdraw_error_details.h"

// ThreadSanitizer's annotations: from its runtime in a -fsanitize=thread
// build, null (weak) in any other.
extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace osm::client {
namespace {

// Debian's gRPC is not built with ThreadSanitizer, which therefore cannot
// see how gRPC orders what it hands between threads. These two state one
// such guarantee where it is used (as server/base/hand_off.h does for the
// server): what a thread did before HandOffSent(key) happens before what
// another does after HandOffReceived(key). No-ops outside TSan builds.
void HandOffSent(const void* key) {
  if (__tsan_release != nullptr) __tsan_release(const_cast<void*>(key));
}
void HandOffReceived(const void* key) {
  if (__tsan_acquire != nullptr) __tsan_acquire(const_cast<void*>(key));
}

// The service config JSON, as read from client/service_config.json at build
// time (kServiceConfigJson).
#include "service_config.inc"

class IamTokenPlugin : public grpc::MetadataCredentialsPlugin {
 public:
  // gRPC owns the plugin once it is made: it calls GetMetadata on its
  // threads and destroys the plugin on one when the last call using it is
  // done, all ordered inside its core.
  explicit IamTokenPlugin(std::string token) : token_(std::move(token)) { HandOffSent(this); }
  ~IamTokenPlugin() override { HandOffReceived(this); }

  // Only copies a string: runs inline on the call's thread.
  bool IsBlocking() const override { return false; }
  const char* GetType() const override { return "osm-iam-token"; }

  grpc::Status GetMetadata(grpc::string_ref /*service_url*/, grpc::string_ref /*method_name*/,
                           const grpc::AuthContext& /*channel_auth_context*/,
                           std::multimap<std::string, std::string>* metadata) override {
    HandOffReceived(this);
    // An empty token sends nothing: the adapter answers UNAUTHENTICATED
    // (MISSING_AUTH_TOKEN), as for a call without credentials.
    if (!token_.empty()) metadata->emplace("x-auth-token", token_);
    HandOffSent(this);
    return grpc::Status::OK;
  }

  std::string DebugString() override { return "IamTokenCredentials{x-auth-token: <redacted>}"; }

 private:
  const std::string token_;
};

}  // namespace

absl::string_view DefaultServiceConfig() { return kServiceConfigJson; }

std::shared_ptr<grpc::Channel> CreateWithdrawChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::string_view service_config) {
  grpc::ChannelArguments args;
  if (!service_config.empty()) args.SetServiceConfigJSON(std::string(service_config));
  return grpc::CreateCustomChannel(target, credentials, args);
}

std::shared_ptr<grpc::CallCredentials> IamTokenCredentials(std::string token) {
  // Security level NONE: the credentials may travel over a plaintext
  // channel (gRPC's default would refuse to send them there).
  return grpc::experimental::MetadataCredentialsFromPlugin(
      std::make_unique<IamTokenPlugin>(std::move(token)), GRPC_SECURITY_NONE);
}

WithdrawClient::WithdrawClient(std::shared_ptr<grpc::ChannelInterface> channel,
                               std::shared_ptr<grpc::CallCredentials> credentials)
    : stub_(huaweicloud::osm::v2::MessageService::NewStub(std::move(channel))),
      credentials_(std::move(credentials)) {}

absl::StatusOr<WithdrawResponse> WithdrawClient::Withdraw(const WithdrawRequest& request,
                                                          absl::Time deadline) const {
  return Withdraw(request, deadline, credentials_);
}

absl::StatusOr<WithdrawResponse> WithdrawClient::Withdraw(
    const WithdrawRequest& request, absl::Time deadline,
    const std::shared_ptr<grpc::CallCredentials>& credentials) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  if (credentials != nullptr) context.set_credentials(credentials);
  WithdrawResponse response;
  const grpc::Status status = stub_->Withdraw(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

void WithdrawClient::WithdrawAsync(const WithdrawRequest& request, absl::Time deadline,
                                   Callback done) const {
  // Everything the call uses lives until its completion callback, which
  // gRPC runs exactly once.
  struct Call {
    grpc::ClientContext context;
    WithdrawRequest request;
    WithdrawResponse response;
    Callback done;
  };
  auto* call = new Call;
  call->request = request;
  call->done = std::move(done);
  call->context.set_deadline(absl::ToChronoTime(deadline));
  if (credentials_ != nullptr) call->context.set_credentials(credentials_);
  // gRPC runs the callback on one of its threads, after the call: an
  // ordering inside its core.
  HandOffSent(call);
  stub_->async()->Withdraw(&call->context, &call->request, &call->response,
                           [call](grpc::Status status) {
                             HandOffReceived(call);
                             std::unique_ptr<Call> owned(call);
                             if (status.ok()) {
                               std::move(owned->done)(std::move(owned->response));
                             } else {
                               std::move(owned->done)(ToAbslStatus(status));
                             }
                           });
}

}  // namespace osm::client
