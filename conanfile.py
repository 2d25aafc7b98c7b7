# Conan 2 recipe for herd. Offline use with Debian's packages:
#   conan create . -pr:a conan/profiles/debian --build=missing
# (see scripts/package-check). With ConanCenter the same recipe takes its
# asio, fmt, nlohmann_json, llhttp and fast_float packages instead.
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load

required_conan_version = ">=2.0"


class HerdConan(ConanFile):
    name = "herd"
    description = "C++20 coroutine client spreading Ollama embedding/chat requests over many nodes"
    topics = ("ollama", "embeddings", "asio", "coroutines", "http")
    package_type = "library"
    settings = "os", "compiler", "build_type", "arch"
    options = {"shared": [True, False], "fPIC": [True, False], "with_tools": [True, False]}
    default_options = {"shared": False, "fPIC": True, "with_tools": True}
    # Only what the library and tools need; tests, bench and examples stay home.
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "src/*"

    def set_version(self):
        # One source of truth: project(herd VERSION x.y.z) in CMakeLists.txt.
        text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = re.search(r"project\(herd VERSION ([0-9.]+)", text).group(1)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        # Not "build/": that is the developers' own CMake build directory.
        cmake_layout(self, build_folder="build-conan")

    def requirements(self):
        # Ranges cover ConanCenter's versions and Debian bookworm's (the
        # offline profile declares those as [platform_requires]).
        # Asio, fmt and nlohmann_json appear in herd's public headers.
        self.requires("asio/[>=1.22 <2]", transitive_headers=True)
        self.requires("fmt/[>=9 <12]", transitive_headers=True, transitive_libs=True)
        self.requires("nlohmann_json/[>=3.10 <4]", transitive_headers=True)
        self.requires("llhttp/[>=8 <10]")
        self.requires("openssl/[>=1.1.1 <4]")
        # Header-only, used by the decoder only (src/ollama/json_float.hpp).
        self.requires("fast_float/[>=3.9 <9]")

    def validate(self):
        check_min_cppstd(self, 20)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["HERD_BUILD_TESTS"] = False
        tc.cache_variables["HERD_BUILD_BENCH"] = False
        tc.cache_variables["HERD_BUILD_EXAMPLES"] = False
        tc.cache_variables["HERD_BUILD_TOOLS"] = bool(self.options.with_tools)
        tc.generate()
        # Writes nothing for [platform_requires] packages: herd's CMake then
        # finds Debian's own fmt/nlohmann_json configs, asio.hpp and the
        # llhttp sources by itself (cmake/HerdDependencies.cmake).
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        cmake = CMake(self)
        cmake.install()

    def _platform_deps(self):
        # [platform_requires] nodes have no package folder, and CMakeDeps
        # gives consumers no target for them.
        return {req.ref.name for req, dep in self.dependencies.items()
                if not req.build and dep.package_folder is None}

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "herd")
        self.cpp_info.set_property("cmake_target_name", "herd::herd")
        self.cpp_info.libs = ["herd"]
        # One Asio frame allocator in every file (see src/CMakeLists.txt).
        self.cpp_info.defines = ["ASIO_DISABLE_STD_ALIGNED_ALLOC"]
        # Without an llhttp package herd compiled Debian's llhttp sources into
        # a static archive that a static herd needs at link time.
        if not self.options.shared and os.path.exists(
                os.path.join(self.package_folder, "lib", "libherd_llhttp.a")):
            self.cpp_info.libs.append("herd_llhttp")
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs.append("pthread")
        # Debian's libfmt is an ordinary system library: link it by name.
        # Header-only platform packages need nothing ( /usr/include ).
        if "fmt" in self._platform_deps():
            self.cpp_info.system_libs.append("fmt")
        if "openssl" in self._platform_deps():
            self.cpp_info.system_libs += ["ssl", "crypto"]
        if self.options.with_tools:
            self.buildenv_info.prepend_path("PATH", os.path.join(self.package_folder, "bin"))
            self.runenv_info.prepend_path("PATH", os.path.join(self.package_folder, "bin"))
