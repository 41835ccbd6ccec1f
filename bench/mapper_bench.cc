// Google Benchmark of the pure per-call work: validation, building the
// upstream request, and mapping answers of several shapes, up to a full
// page of ListMessages.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/osm/message_mapping.h"
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

// About 200 characters, Chinese and ASCII, as a support engineer writes them.
constexpr char kContent[] =
    "您好，关于您提到的ECS实例 ecs-prod-01 无法通过SSH登录的问题，我们检查了安全组 "
    "sg-0a1b2c3d 的入方向规则，发现22端口只对 10.0.0.0/8 开放。Please add a rule for your "
    "office address (for example 203.0.113.0/24) and retry; 如果问题仍然存在，请提供实例ID、"
    "登录时的完整报错和时间。";

// `text` as JSON string content: '"' and '\' escaped and, with
// `escape_non_ascii`, every character above U+007F as \uXXXX (some JSON
// writers do this).
std::string JsonText(absl::string_view text, bool escape_non_ascii) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      absl::StrAppend(&out, "\\", text.substr(i, 1));
    } else if (byte < 0x80 || !escape_non_ascii) {
      out.push_back(text[i]);
    } else {  // the Chinese here is all three-byte UTF-8, in the BMP
      const std::uint32_t code = ((byte & 0x0F) << 12) |
                                 ((static_cast<unsigned char>(text[i + 1]) & 0x3F) << 6) |
                                 (static_cast<unsigned char>(text[i + 2]) & 0x3F);
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", code));
      i += 2;
    }
  }
  return out;
}

// A full page of ListMessages as OSM answers it: 100 messages (ten times
// the default page), customer and support turns, every fifth with one
// attachment.
std::string ListMessagesPage(bool escape_non_ascii) {
  const std::string content = JsonText(kContent, escape_non_ascii);
  const std::string customer = JsonText("张伟", escape_non_ascii);
  const std::string support = JsonText("华为云技术支持工程师", escape_non_ascii);
  const std::string file = JsonText("登录报错截图.png", escape_non_ascii);
  std::string body = R"({"error_code":"","error_msg":"","count":236,"message_list":[)";
  for (int i = 0; i < 100; ++i) {
    const bool from_support = i % 2 == 1;
    absl::StrAppend(&body, i == 0 ? "" : ",", "{\"type\":", from_support ? 1 : 0,
                    ",\"replier_type\":", from_support ? 1 : 0,
                    absl::StrFormat(R"(,"replier":"%s","replier_name":"%s",)",
                                    from_support ? "b8a1c4e2d9f04a7c" : "0a1b2c3d4e5f6a7b",
                                    from_support ? support : customer),
                    R"("content":")", content,
                    absl::StrFormat(R"(","create_time":"2024-05-%02d %02d:%02d:17",)", 6 + i / 24,
                                    i % 24, (i * 7) % 60),
                    R"("is_first_message":)", i == 0 ? 1 : 0,
                    R"(,"iam_user_type":0,"accessory_list":[)");
    if (i % 5 == 4) {
      absl::StrAppend(&body, R"({"accessory_id":"acc-7f3e91)", i, R"(","file_actual_name":")", file,
                      R"("})");
    }
    absl::StrAppend(&body, "]}");
  }
  absl::StrAppend(&body, "]}");
  return body;
}

// Arg 0: UTF-8 as it is; 1: every non-ASCII character \u-escaped.
void BM_MapListMessagesPage(benchmark::State& state) {
  const absl::StatusOr<HttpResponse> outcome = Answer(200, ListMessagesPage(state.range(0) == 1));
  const absl::Time now = absl::Now();
  const CallSecrets secrets = Token();
  for (auto _ : state) {
    benchmark::DoNotOptimize(MapListMessagesOutcome(outcome, now, secrets, /*offset=*/0));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(outcome->body.size()));
  state.counters["messages"] = benchmark::Counter(100 * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MapListMessagesPage)->Arg(0)->Arg(1);

// The same page through Withdraw's mapping, which reads only the error
// fields: what the generic rules cost on a large body.
void BM_MapWithdrawOfListMessagesPage(benchmark::State& state) {
  const absl::StatusOr<HttpResponse> outcome = Answer(200, ListMessagesPage(state.range(0) == 1));
  const absl::Time now = absl::Now();
  const CallSecrets secrets = Token();
  for (auto _ : state) benchmark::DoNotOptimize(MapWithdrawOutcome(outcome, now, secrets));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(outcome->body.size()));
}
BENCHMARK(BM_MapWithdrawOfListMessagesPage)->Arg(0)->Arg(1);

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
