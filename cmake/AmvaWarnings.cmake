# The warnings of every target amva builds (library areas, the CLI, tests, benchmarks, fuzz
# targets, the Python module), set in one place. AMVA_WERROR makes them errors: the test
# command sets it, so that a warning in amva's own code fails the tests. Third-party headers
# come in as SYSTEM includes and stay quiet.
function(amva_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra $<$<BOOL:${AMVA_WERROR}>:-Werror>)
  # A unity build includes each file into a batch file, where GCC takes a test fixture in an
  # anonymous namespace for one declared in a header (-Wsubobject-linkage), which it is not.
  get_target_property(unity ${target} UNITY_BUILD)
  if(unity AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()
