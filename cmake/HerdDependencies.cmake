# Finds herd's dependencies: an installed CMake package where one exists
# (Conan, vcpkg, a distro config), else Debian's system files.
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
# TLS to https:// nodes (Debian: libssl-dev).
find_package(OpenSSL 1.1.1 REQUIRED)
# Header-only, private to the decoder (src/ollama/json_float.hpp): exact float parsing.
find_package(FastFloat 3.9 REQUIRED)

# Standalone Asio ships no CMake config on Debian: an imported header target.
if(NOT TARGET asio::asio)
  find_package(asio CONFIG QUIET)
endif()
if(NOT TARGET asio::asio)
  find_path(HERD_ASIO_INCLUDE_DIR asio.hpp)
  if(NOT HERD_ASIO_INCLUDE_DIR)
    message(FATAL_ERROR "herd needs standalone Asio (Debian: libasio-dev)")
  endif()
  add_library(asio::asio INTERFACE IMPORTED)
  target_include_directories(asio::asio INTERFACE ${HERD_ASIO_INCLUDE_DIR})
  # Asio 1.22 sees clang's C++20 coroutines only through this (see
  # include/herd/async/compat.hpp).
  # ASIO_DISABLE_STD_ALIGNED_ALLOC: see the herd target (src/CMakeLists.txt);
  # here too for programs that use Asio without herd (the fuzz targets).
  target_compile_definitions(asio::asio INTERFACE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC
    $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1>)
  target_link_libraries(asio::asio INTERFACE Threads::Threads)
endif()

# llhttp: an installed package (Conan's llhttp::llhttp) or Debian's
# node-llhttp C sources, built here as a small static library.
if(NOT TARGET llhttp::llhttp)
  find_package(llhttp CONFIG QUIET)
endif()
if(NOT TARGET llhttp::llhttp)
  set(HERD_LLHTTP_SOURCE_DIR /usr/share/llhttp CACHE PATH "llhttp C sources")
  set(HERD_LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "llhttp header")
  if(NOT EXISTS ${HERD_LLHTTP_SOURCE_DIR}/llhttp.c OR NOT EXISTS ${HERD_LLHTTP_INCLUDE_DIR}/llhttp.h)
    message(FATAL_ERROR "herd needs llhttp (Debian: node-llhttp, or an llhttp CMake package)")
  endif()
  add_library(herd_llhttp STATIC
    ${HERD_LLHTTP_SOURCE_DIR}/llhttp.c ${HERD_LLHTTP_SOURCE_DIR}/api.c ${HERD_LLHTTP_SOURCE_DIR}/http.c)
  target_include_directories(herd_llhttp PUBLIC
    $<BUILD_INTERFACE:${HERD_LLHTTP_INCLUDE_DIR}> $<INSTALL_INTERFACE:include/herd/third_party>)
  set_target_properties(herd_llhttp PROPERTIES EXPORT_NAME llhttp_static)
  add_library(llhttp::llhttp ALIAS herd_llhttp)
  set(HERD_BUNDLED_LLHTTP ON)
endif()
