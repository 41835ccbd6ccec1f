// Google Benchmark of the pure per-call work: validation, building the
// upstream request, and mapping answers of several shapes.

#include <benchmark/benchmark.h>

#include "absl/time/clock.h"
#include "server/osm/response_mapper.h"
#include "server/osm/upstream_request.h"
#include "server/service/request_validation.h"

namespace osm {
namespace {

CallSecrets Token() {
  CallSecrets secrets;
  secrets.Add("token");
  return secrets;
}

HttpResponse Answer(int status, std::string body) {
  HttpResponse http;
  http.status = status;
  http.body = std::move(body);
  http.headers = {{"x-request-id", "5fc8d49c1a173ca8706326966e62c950"}};
  return http;
}

void BM_MapSuccess(benchmark::State& state) {
  const absl::StatusOr<HttpResponse> outcome = Answer(200, R"({"error_code":"","error_msg":""})");
  const absl::Time now = absl::Now();
  const CallSecrets secrets = Token();
  for (auto _ : state) benchmark::DoNotOptimize(MapWithdrawOutcome(outcome, now, secrets));
}
BENCHMARK(BM_MapSuccess);

void BM_MapEmptyBody(benchmark::State& state) {
  const absl::StatusOr<HttpResponse> outcome = Answer(200, "");
  const absl::Time now = absl::Now();
  const CallSecrets secrets = Token();
  for (auto _ : state) benchmark::DoNotOptimize(MapWithdrawOutcome(outcome, now, secrets));
}
BENCHMARK(BM_MapEmptyBody);

void BM_MapBusinessError(benchmark::State& state) {
  const absl::StatusOr<HttpResponse> outcome =
      Answer(200, R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})");
  const absl::Time now = absl::Now();
  const CallSecrets secrets = Token();
  for (auto _ : state) benchmark::DoNotOptimize(MapWithdrawOutcome(outcome, now, secrets));
}
BENCHMARK(BM_MapBusinessError);

void BM_MapHtml502(benchmark::State& state) {
  const absl::StatusOr<HttpResponse> outcome =
      Answer(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
  const absl::Time now = absl::Now();
  const CallSecrets secrets = Token();
  for (auto _ : state) benchmark::DoNotOptimize(MapWithdrawOutcome(outcome, now, secrets));
}
BENCHMARK(BM_MapHtml502);

void BM_ValidateAndBuildRequest(benchmark::State& state) {
  huaweicloud::osm::v2::WithdrawRequest request;
  request.set_case_id("case-0123456789");
  request.set_message_id("message-0123456789");
  request.set_language("en-us");
  const std::string token(1200, 't');
  const std::vector<absl::string_view> tokens = {token};
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ValidateWithdrawRequest(request, tokens, true));
    benchmark::DoNotOptimize(
        BuildWithdrawHttpRequest(UpstreamUrl{"https", "osm.ap-southeast-3.myhuaweicloud.com", ""},
                                 request, token, deadline));
  }
}
BENCHMARK(BM_ValidateAndBuildRequest);

}  // namespace
}  // namespace osm

BENCHMARK_MAIN();
