#include "server/app/adapter_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/app/listener_security.h"
#include "server/osm/message_mapping.h"
#include "server/observability/process_metrics.h"
#include "server/upstream/curl_upstream_client.h"
#include "server/upstream/upstream_url.h"

namespace osm {

absl::StatusOr<std::unique_ptr<AdapterServer>> AdapterServer::Start(const AdapterConfig& config,
                                                                    UpstreamClient* upstream) {
  if (absl::Status invalid = Validate(config); !invalid.ok()) return invalid;
  absl::StatusOr<UpstreamUrl> upstream_url = ParseUpstreamUrl(config.upstream);
  if (!upstream_url.ok()) return upstream_url.status();  // Validate() let it pass
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> listener_credentials =
      ListenerCredentials(config.tls);
  if (!listener_credentials.ok()) return listener_credentials.status();

  std::unique_ptr<AdapterServer> server(new AdapterServer());
  server->metrics_ = std::make_unique<AdapterMetrics>(&server->metrics_registry_);
  RegisterProcessMetrics(&server->metrics_registry_);
  if (config.access_log != "off") {
    absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(config.access_log);
    if (!log.ok()) return log.status();
    server->access_log_ = *std::move(log);
  }

  if (upstream == nullptr) {
    CurlUpstreamClient::Options options;
    options.scheme = upstream_url->scheme;
    options.loop_threads = config.upstream_threads;
    options.max_connections = config.max_upstream_connections;
    options.connect_timeout = config.connect_timeout;
    options.ca_file = config.upstream_ca_file;
    options.http2 = config.upstream_http2 && options.scheme == "https";
    options.connections_gauge = server->metrics_->upstream_connections();
    options.retries_counter = server->metrics_->upstream_retries();
    absl::StatusOr<std::unique_ptr<CurlUpstreamClient>> client =
        CurlUpstreamClient::Create(options);
    if (!client.ok()) return client.status();
    server->owned_upstream_ = *std::move(client);
    upstream = server->owned_upstream_.get();
  }

  server->credentials_ = config.credentials;
  OsmMessageService::Options service_options;
  service_options.pipeline.upstream = *std::move(upstream_url);
  service_options.pipeline.max_upstream_timeout = config.max_upstream_timeout;
  service_options.pipeline.credentials = server->credentials_.get();
  service_options.metrics = server->metrics_.get();
  service_options.access_log = server->access_log_.get();
  service_options.max_in_flight = config.max_in_flight;
  service_options.max_watches = config.max_watches;
  service_options.watch_interval = config.watch_interval;
  service_options.min_watch_interval = config.min_watch_interval;
  server->service_ = std::make_unique<OsmMessageService>(upstream, std::move(service_options));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  auto millis = [](absl::Duration d) {
    return d == absl::InfiniteDuration()
               ? INT_MAX
               : static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
  };
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, millis(config.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, millis(config.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             millis(config.max_connection_age_grace));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, millis(config.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, millis(config.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             millis(config.keepalive_min_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.SetMaxReceiveMessageSize(kMaxRequestMessageBytes);
  // The largest answer of the message group (ListCaseMessages,
  // PollNewMessages), which clients must accept too.
  builder.SetMaxSendMessageSize(static_cast<int>(kMaxResponseMessageBytes));
  // No bandwidth-delay-product probing: its PINGs grow the flow-control
  // window for large transfers, and a Withdraw is a few hundred bytes each
  // way; on every busy connection they cost a timer wake-up, a write and a
  // read of the acknowledgement.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // Each open stream costs gRPC about 13 KiB before our handler even sees
  // it; without a cap one client can hold tens of thousands. Clients queue
  // the excess on their side (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, config.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, config.max_header_list_size);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             millis(config.handshake_timeout));
  if (config.grpc_memory_quota_mib > 0) {
    grpc::ResourceQuota quota("osm-adapter");
    quota.Resize(static_cast<std::size_t>(config.grpc_memory_quota_mib) << 20);
    builder.SetResourceQuota(quota);
  }
  builder.AddListeningPort(config.listen, *listener_credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("--listen: cannot listen on ", config.listen));
  }
  server->SetServing(true);
  if (absl::StartsWith(config.listen, "unix:")) {
    server->address_ = config.listen;
  } else {
    // The configured host with the port actually bound.
    const std::size_t colon = config.listen.rfind(':');
    server->address_ = absl::StrCat(config.listen.substr(0, colon), ":", server->port_);
  }

  if (!config.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> metrics_server =
        MetricsHttpServer::Start(config.metrics_listen, &server->metrics_registry_,
                                 &server->serving_);
    if (!metrics_server.ok()) return metrics_server.status();
    server->metrics_server_ = *std::move(metrics_server);
  }
  return server;
}

int AdapterServer::metrics_port() const {
  return metrics_server_ != nullptr ? metrics_server_->port() : 0;
}

AdapterServer::~AdapterServer() { Shutdown(absl::ZeroDuration()); }

std::shared_ptr<grpc::Channel> AdapterServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void AdapterServer::SetServing(bool serving) {
  serving_.store(serving, std::memory_order_relaxed);
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(serving);  // "" and every service
  health->SetServingStatus(huaweicloud::osm::v2::MessageService::service_full_name(), serving);
}

void AdapterServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  metrics_server_.reset();
  if (server_ != nullptr) {  // null when Start() failed half-way
    // Watches end first: they would otherwise hold the drain to its end.
    service_->EndWatches();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  // No call can start a transfer any more.
  owned_upstream_.reset();
  // Every call has been logged: write the rest out.
  access_log_.reset();
}

}  // namespace osm
