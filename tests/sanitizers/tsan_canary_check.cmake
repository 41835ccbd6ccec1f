# Runs the TSan canary (tsan_canary_test.cc) and passes only if TSan reported
# its race: a failing exit status, and a data-race report whose stacks name
# the canary's two writes. With suppressions that hide races on gRPC's
# threads the canary exits 0 without a report, and this check fails.
#
#   cmake -DCANARY=<binary> -DSUPPRESSIONS=<tsan.supp> -P tsan_canary_check.cmake
#
# TSAN_OPTIONS from the environment (the tsan test preset's) are kept; the
# project's suppressions file is added when they name none, so that the
# canary always runs against it.

if(NOT CANARY OR NOT SUPPRESSIONS)
  message(FATAL_ERROR "usage: cmake -DCANARY=<binary> -DSUPPRESSIONS=<file> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

set(options "$ENV{TSAN_OPTIONS}")
if(NOT options MATCHES "suppressions=")
  if(options)
    string(APPEND options ":")
  endif()
  string(APPEND options "suppressions=${SUPPRESSIONS}")
endif()
set(ENV{TSAN_OPTIONS} "${options}")

execute_process(COMMAND "${CANARY}" RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE out TIMEOUT 120)
message("TSAN_OPTIONS=${options}\n${out}")

if(status EQUAL 0)
  message(FATAL_ERROR "the TSan canary exited 0: its race was not reported "
                      "(suppressed by ${SUPPRESSIONS}?)")
endif()
foreach(expected "WARNING: ThreadSanitizer: data race" "TsanCanaryHandlerWrite"
                 "TsanCanaryThreadWrite")
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the TSan canary exited with '${status}' but its output lacks "
                        "'${expected}': not the canary's race report")
  endif()
endforeach()
message("the TSan canary's race was reported, as it must be")
