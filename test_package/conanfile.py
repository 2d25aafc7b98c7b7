# Builds a small program against the herd package and runs it against a
# herd-sim node started from that same package (loopback only).
import os
import subprocess
import tempfile
import time

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class HerdTestConan(ConanFile):
    settings = "os", "compiler", "build_type", "arch"
    generators = "CMakeDeps", "CMakeToolchain"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        program = os.path.join(self.cpp.build.bindir, "test_package")
        herd = self.dependencies["herd"]
        sim = os.path.join(herd.package_folder, "bin", "herd-sim")
        if not herd.options.with_tools or not os.path.exists(sim):
            self.run(program, env="conanrun")
            return
        with tempfile.TemporaryDirectory() as tmp:
            ports = os.path.join(tmp, "ports")
            # herd-sim writes its URL to the ports file (atomically) once listening.
            node = subprocess.Popen([sim, "--node", "zero", "--ports-file", ports])
            try:
                deadline = time.monotonic() + 30
                while not os.path.exists(ports):
                    if node.poll() is not None:
                        raise ConanException(f"herd-sim exited with {node.returncode}")
                    if time.monotonic() > deadline:
                        raise ConanException("herd-sim wrote no ports file in 30 s")
                    time.sleep(0.1)
                with open(ports) as f:
                    url = f.readline().strip()
                if not url.startswith("http://127.0.0.1:"):
                    raise ConanException(f"herd-sim gave an unexpected URL: {url!r}")
                self.run(f"{program} {url}", env="conanrun")
            finally:
                node.terminate()
                try:
                    node.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.kill()
                    node.wait()
