# Sanitizer and fuzzing builds (scripts/sanitize.sh makes one of each kind in build-sanitize/).
#
# AMVA_SANITIZE: sanitizers for every target, as -fsanitize takes them ("address,undefined").
#   Undefined behaviour stops the program (no recovery), so a test that triggers it fails.
# AMVA_FUZZ: libFuzzer instrumentation for every target and real libFuzzer drivers for the
#   targets under fuzz/ (clang only). Without it the fuzz targets are still built, with a
#   replay driver that runs their seed corpus as an ordinary test.
set(AMVA_SANITIZE "" CACHE STRING "Sanitizers for every target, comma-separated, e.g. address,undefined")
option(AMVA_FUZZ "Build the fuzz targets with libFuzzer (needs clang)" OFF)

if(AMVA_SANITIZE)
  add_compile_options(-fsanitize=${AMVA_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${AMVA_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    add_compile_options(-gline-tables-only)  # file:line in reports, at little build cost
  endif()
endif()

if(AMVA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "AMVA_FUZZ needs clang (libFuzzer), e.g. -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
