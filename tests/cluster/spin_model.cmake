# Model check of the oplock protocol (cp/cluster/PROTOCOL.md) with spin:
# cp/cluster/model/oplock.pml, run by cp/cluster/model/check.sh.
# Included from tests/cluster/CMakeLists.txt. Skipped when spin is absent.
find_program(SPIN spin)
if(SPIN)
  # Exhaustive search, 3 nodes: errors: 0 and a complete search.
  add_test(NAME cluster_oplock_spin_model
           COMMAND bash ${PROJECT_SOURCE_DIR}/cp/cluster/model/check.sh 3)
  # The mutation self-check: with departure 1 removed (Want to share acks an
  # acquire and carries on) spin must find the stale cache.
  add_test(NAME cluster_oplock_spin_model_catches_bug
           COMMAND bash ${PROJECT_SOURCE_DIR}/cp/cluster/model/check.sh 3
                   -DBUG_NO_RESTART --expect-violation)
  set_tests_properties(cluster_oplock_spin_model PROPERTIES
                       TIMEOUT 600 LABELS "cluster;spin")
  set_tests_properties(cluster_oplock_spin_model_catches_bug PROPERTIES
                       TIMEOUT 300 LABELS "cluster;spin")
else()
  message(STATUS "spin not found: the oplock model check is not run")
endif()
