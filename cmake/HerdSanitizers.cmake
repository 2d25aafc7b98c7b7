# Sanitizer and fuzzing builds, each in a build directory of its own.
#
# HERD_SANITIZE=address,undefined (or thread): every target, the library
# included, is built and linked with those sanitizers; a report stops the
# program (-fno-sanitize-recover), so a test that triggers one fails.
# HERD_FUZZ=ON (clang only): everything is instrumented for libFuzzer's
# coverage and built with ASan+UBSan; tests/fuzz adds one program per
# untrusted input (see tests/fuzz/README.md).
set(HERD_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined or thread")
option(HERD_FUZZ "Build the libFuzzer targets of tests/fuzz (clang)" OFF)

if(HERD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HERD_FUZZ needs clang (libFuzzer): CC=clang-16 CXX=clang++-16")
  endif()
  if(NOT HERD_SANITIZE)
    set(HERD_SANITIZE address,undefined)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(HERD_SANITIZE)
  add_compile_options(-fsanitize=${HERD_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HERD_SANITIZE})
endif()
