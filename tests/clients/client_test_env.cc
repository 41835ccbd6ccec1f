#include "tests/clients/client_test_env.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/in_process_adapter.h"

namespace osm::testing {

void AnswerLikeOsm(ScriptedUpstream& upstream, std::string ok_request_id,
                   std::string not_found_request_id) {
  upstream.SetHandler([ok = std::move(ok_request_id),
                       not_found = std::move(not_found_request_id)](UpstreamExchange& exchange) {
    if (absl::StrContains(exchange.request().target, "/cases/missing/")) {
      exchange.Respond(200, kCaseNotFoundBody, {{"X-Request-Id", not_found}});
    } else {
      exchange.Respond(200, kSuccessBody, {{"X-Request-Id", ok}});
    }
  });
}

std::unique_ptr<AdapterServer> StartAdapter(const ScriptedUpstream& upstream) {
  AdapterConfig config = TestAdapterConfig(upstream.base_url());
  absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
  if (!server.ok()) {
    ADD_FAILURE() << "the adapter did not start: " << server.status();
    return nullptr;
  }
  return *std::move(server);
}

std::unique_ptr<AdapterProcess> StartAdapterProcess(const ScriptedUpstream& upstream) {
  return std::make_unique<AdapterProcess>(
      std::vector<std::string>{absl::StrCat("--upstream=", upstream.base_url())});
}

}  // namespace osm::testing
