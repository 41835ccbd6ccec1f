#include "osm/client/withdraw_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <map>
#include <utility>

#include "osm/client/withdraw_error_details.h"

namespace osm::client {
namespace {

// The service config JSON, as read from client/service_config.json at build
// time (kServiceConfigJson).
#include "service_config.inc"

class IamTokenPlugin : public grpc::MetadataCredentialsPlugin {
 public:
  explicit IamTokenPlugin(std::string token) : token_(std::move(token)) {}

  // Only copies a string: runs inline on the call's thread.
  bool IsBlocking() const override { return false; }
  const char* GetType() const override { return "osm-iam-token"; }

  grpc::Status GetMetadata(grpc::string_ref /*service_url*/, grpc::string_ref /*method_name*/,
                           const grpc::AuthContext& /*channel_auth_context*/,
                           std::multimap<std::string, std::string>* metadata) override {
    // An empty token sends nothing: the adapter answers UNAUTHENTICATED
    // (MISSING_AUTH_TOKEN), as for a call without credentials.
    if (!token_.empty()) metadata->emplace("x-auth-token", token_);
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
  stub_->async()->Withdraw(&call->context, &call->request, &call->response,
                           [call](grpc::Status status) {
                             std::unique_ptr<Call> owned(call);
                             if (status.ok()) {
                               std::move(owned->done)(std::move(owned->response));
                             } else {
                               std::move(owned->done)(ToAbslStatus(status));
                             }
                           });
}

}  // namespace osm::client
