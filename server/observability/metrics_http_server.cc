#include "server/observability/metrics_http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace osm {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

MHD_Result Respond(MHD_Connection* connection, unsigned int status, const std::string& body,
                   const char* content_type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  const MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result Handle(void* server_ptr, MHD_Connection* connection, const char* url,
                  const char* method, const char* /*version*/, const char* /*upload_data*/,
                  size_t* upload_size, void** /*state*/) {
  if (*upload_size != 0) {
    *upload_size = 0;  // a body on a scrape: ignore it
    return MHD_YES;
  }
  if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
    return Respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain");
  }
  const auto* server = static_cast<const MetricsHttpServer*>(server_ptr);
  if (std::strcmp(url, "/ready") == 0 && server->serving() != nullptr) {
    return server->serving()->load(std::memory_order_relaxed)
               ? Respond(connection, MHD_HTTP_OK, "serving\n", "text/plain")
               : Respond(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "not serving\n", "text/plain");
  }
  if (std::strcmp(url, "/metrics") != 0) {
    return Respond(connection, MHD_HTTP_NOT_FOUND, "see /metrics\n", "text/plain");
  }
  return Respond(connection, MHD_HTTP_OK, server->registry()->Render(), kContentType);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    absl::string_view listen, const MetricsRegistry* registry, const std::atomic<bool>* serving) {
  const std::size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen: expected HOST:PORT, got \"", listen, "\""));
  }
  absl::string_view host = listen.substr(0, colon);
  const bool bracketed = absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]");
  const std::string host_text(host);

  sockaddr_storage address{};
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (!bracketed && (host_text.empty() || host_text == "0.0.0.0" ||
                     inet_pton(AF_INET, host_text.c_str(), &v4->sin_addr) == 1)) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    if (host_text.empty()) v4->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET6, host_text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    flags |= host_text == "::" ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen: the host must be a numeric IPv4 or [IPv6] address, got \"",
                     listen, "\""));
  }

  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->registry_ = registry;
  server->serving_ = serving;
  server->daemon_ = MHD_start_daemon(flags, static_cast<uint16_t>(port), nullptr, nullptr, &Handle,
                                     server.get(), MHD_OPTION_SOCK_ADDR,
                                     &address, MHD_OPTION_CONNECTION_LIMIT, 64u,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("--metrics_listen: cannot listen on ", listen));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : port;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace osm
