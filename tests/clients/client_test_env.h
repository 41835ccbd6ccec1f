#ifndef OSM_TESTS_CLIENTS_CLIENT_TEST_ENV_H_
#define OSM_TESTS_CLIENTS_CLIENT_TEST_ENV_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/app/adapter_server.h"
#include "tests/support/adapter_process.h"
#include "tests/support/scripted_upstream.h"

namespace osm::testing {

// OSM's answer for a case that does not exist: a business error, HTTP 200.
inline constexpr absl::string_view kCaseNotFoundBody =
    R"({"error_code":"OSM.01010015","error_msg":"The case does not exist."})";

// Scripts `upstream` to answer like OSM: kCaseNotFoundBody for the case id
// "missing" (X-Request-Id: `not_found_request_id`), success for any other
// (X-Request-Id: `ok_request_id`).
void AnswerLikeOsm(ScriptedUpstream& upstream, std::string ok_request_id,
                   std::string not_found_request_id);

// The real adapter, in this process, on 127.0.0.1 and a free port, in front
// of `upstream`; null (and a test failure) if it did not start.
std::unique_ptr<AdapterServer> StartAdapter(const ScriptedUpstream& upstream);

// The osm-adapter binary in front of `upstream`; check started().
std::unique_ptr<AdapterProcess> StartAdapterProcess(const ScriptedUpstream& upstream);

}  // namespace osm::testing

#endif  // OSM_TESTS_CLIENTS_CLIENT_TEST_ENV_H_
