#include "osm/client/withdraw_client.h"

#include <map>
#include <utility>

#include "client/unary_call.h"
#include "osm/client/message_client.h"

namespace osm::client {
namespace {

using internal::HandOffReceived;
using internal::HandOffSent;

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
  return CreateMessageChannel(target, credentials, service_config);
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
  return internal::CallBlocking(*stub_, &internal::Stub::Withdraw, request, deadline, credentials);
}

void WithdrawClient::WithdrawAsync(const WithdrawRequest& request, absl::Time deadline,
                                   Callback done) const {
  internal::CallAsync(*stub_, &internal::Stub::async::Withdraw, request, deadline, credentials_,
                      std::move(done));
}

}  // namespace osm::client
