# The Kubernetes manifest's objects agree with each other: the Deployment,
# its Service, HorizontalPodAutoscaler and PodDisruptionBudget, the rollout,
# the grace period against the drain flags (tests/deploy/kubernetes_manifest_test.py).
# The YAML alone: no binary and no cluster. Included from tests/CMakeLists.txt,
# so CMAKE_CURRENT_SOURCE_DIR is tests/; OSM_PYTHON has python3-yaml.
add_test(NAME deploy.kubernetes_manifest
         COMMAND ${OSM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/deploy/kubernetes_manifest_test.py
                 ${PROJECT_SOURCE_DIR}/deploy/kubernetes/osm-adapter.yaml)
set_tests_properties(deploy.kubernetes_manifest PROPERTIES LABELS deploy TIMEOUT 30)
