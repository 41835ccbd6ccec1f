# deploy/prometheus: the alerting and recording rules, their promtool unit
# tests and the Grafana dashboard, checked against the adapter's source
# (tests/deploy/prometheus_rules_test.sh). Needs no build. Skipped (exit 77)
# where promtool is not installed (Debian: the prometheus package), unless
# OSM_DEPLOY_TESTS_REQUIRED=1 is in ctest's environment, as in CI, which
# makes a missing promtool a failure.
#
# Included from tests/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is tests/.
add_test(NAME deploy.prometheus_rules
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/prometheus_rules_test.sh
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(deploy.prometheus_rules PROPERTIES
                     LABELS deploy
                     SKIP_RETURN_CODE 77
                     TIMEOUT 120)
# OSM_PYTHON (tests/CMakeLists.txt) has python3-yaml, which the script's
# name checks need; without it the script takes python3 from PATH.
if(OSM_PYTHON)
  set_property(TEST deploy.prometheus_rules APPEND PROPERTY
               ENVIRONMENT "OSM_PYTHON=${OSM_PYTHON}")
endif()
