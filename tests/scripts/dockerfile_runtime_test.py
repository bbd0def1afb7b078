#!/usr/bin/env python3
"""deploy/Dockerfile's runtime stage installs a Debian package for every shared library the ramp
binary needs directly (readelf's NEEDED entries, owned per dpkg -S). The image cannot be built
here (no Docker daemon), so this is what keeps its package list honest: a library added to the
build without its runtime package fails here, not in a user's cluster.

Usage: dockerfile_runtime_test.py RAMP_BINARY. The sanitizer runtimes of a sanitizer build are
not the image's (it is a release build) and are skipped, as are the packages a Debian base image
always has."""

import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOCKERFILE = os.path.join(ROOT, "deploy", "Dockerfile")
# In every debian:bookworm-slim image (Essential or required by it).
BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
SANITIZERS = re.compile(r"^lib(asan|ubsan|tsan|lsan)\.so")


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True,
                         text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def package_of(library):
    for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"):
        path = os.path.join(d, library)
        if not os.path.exists(path):
            continue
        got = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if got.returncode == 0:
            return got.stdout.split(":", 1)[0]
    return None


def runtime_packages(dockerfile_text):
    """The packages the last stage's apt-get install names."""
    stages = re.split(r"^FROM ", dockerfile_text, flags=re.MULTILINE)
    last = stages[-1].replace("\\\n", " ")
    names = set()
    for m in re.finditer(r"apt-get install ([^&\n]*)", last):
        names.update(w for w in m.group(1).split() if not w.startswith("-"))
    return names


class DockerfileRuntimeTest(unittest.TestCase):

    def test_every_needed_library_has_its_package(self):
        with open(DOCKERFILE, encoding="utf-8") as fh:
            installed = runtime_packages(fh.read())
        self.assertIn("ca-certificates", installed, "the runtime stage's list was not found")
        libraries = [lib for lib in needed(BINARY) if not SANITIZERS.match(lib)]
        self.assertGreater(len(libraries), 5)
        missing = []
        for lib in libraries:
            pkg = package_of(lib)
            self.assertIsNotNone(pkg, f"{lib}: no Debian package owns it")
            if pkg not in BASE and pkg not in installed:
                missing.append(f"{lib} ({pkg})")
        self.assertEqual(missing, [], f"{DOCKERFILE}: the runtime stage lacks these")


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
