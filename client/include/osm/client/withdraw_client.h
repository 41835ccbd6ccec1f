#ifndef OSM_CLIENT_WITHDRAW_CLIENT_H_
#define OSM_CLIENT_WITHDRAW_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"

namespace osm::client {

using huaweicloud::osm::v2::WithdrawRequest;
using huaweicloud::osm::v2::WithdrawResponse;

// The gRPC service config of client/service_config.json (installed as
// share/osm_grpc_adapter/service_config.json): a 30 s cap on each call and
// up to 4 attempts, retrying UNAVAILABLE only (the adapter reports it only
// when OSM cannot have processed the request), with retry throttling.
absl::string_view DefaultServiceConfig();

// A channel to the adapter at `target` ("host:port") that applies
// `service_config` (JSON; empty for none). The same as CreateMessageChannel
// (message_client.h): it accepts answers up to kMaxResponseBytes.
std::shared_ptr<grpc::Channel> CreateWithdrawChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::string_view service_config = DefaultServiceConfig());

// Call credentials that send an IAM token in the metadata key `x-auth-token`,
// which the adapter forwards to OSM as `X-Auth-Token`. They are accepted on
// plaintext channels too: the adapter usually sits on localhost or behind a
// mesh's mTLS. The token is never part of a debug string.
std::shared_ptr<grpc::CallCredentials> IamTokenCredentials(std::string token);

// MessageService.Withdraw with absl results. Thread-safe; cheap to copy.
//
// A non-OK result carries the gRPC code and message, and the
// google.rpc.Status the adapter attached as a payload: read it with
// WithdrawErrorDetails::FromStatus (withdraw_error_details.h).
class WithdrawClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<WithdrawResponse>) &&>;

  // `channel`: for example CreateWithdrawChannel(target, credentials).
  // `credentials` are attached to every call that does not bring its own:
  // IamTokenCredentials(token), or any grpc::CallCredentials (a refreshing
  // token plugin, say). Null sends none; the adapter then answers
  // UNAUTHENTICATED.
  explicit WithdrawClient(std::shared_ptr<grpc::ChannelInterface> channel,
                          std::shared_ptr<grpc::CallCredentials> credentials = nullptr);

  // Withdraws a message; blocks until the adapter answers or `deadline`
  // passes (the deadline also bounds the adapter's call to OSM, and the
  // channel's service config may cap it further).
  absl::StatusOr<WithdrawResponse> Withdraw(const WithdrawRequest& request,
                                            absl::Time deadline) const;
  // The same with these call credentials instead of the client's.
  absl::StatusOr<WithdrawResponse> Withdraw(
      const WithdrawRequest& request, absl::Time deadline,
      const std::shared_ptr<grpc::CallCredentials>& credentials) const;

  // Starts the call and returns at once; `done` runs once, on a gRPC thread,
  // with what Withdraw() would have returned. It must not block.
  void WithdrawAsync(const WithdrawRequest& request, absl::Time deadline, Callback done) const;

 private:
  std::shared_ptr<huaweicloud::osm::v2::MessageService::Stub> stub_;
  std::shared_ptr<grpc::CallCredentials> credentials_;
};

}  // namespace osm::client

#endif  // OSM_CLIENT_WITHDRAW_CLIENT_H_
