#!/usr/bin/env python3
"""Tests of scripts/check_includes.py: each case writes a small source tree and target table to a
temp dir, runs the script as the build does, and checks the exit status and the findings."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "check_includes.py")


def module(d, sources, deps=(), public=()):
    return {"dir": d, "sources": list(sources), "deps": ["ramp_seams", *deps, *public],
            "public": ["ramp_seams", *public]}


# A miniature ramp: common; spec -> common (private); rollout -> spec (PUBLIC);
# controller -> rollout; two routers; a kube client; a provider; a test binary.
TARGETS = {
    "ramp_seams": {"dir": "", "sources": [], "deps": [], "public": []},
    "ramp_common": module("src/common", ["src/common/clock.cc", "src/common/util.cc"]),
    "ramp_spec": module("src/spec", ["src/spec/codec.cc"], deps=["ramp_common"]),
    "ramp_rollout": module("src/rollout", ["src/rollout/engine.cc"], public=["ramp_spec"]),
    "ramp_controller": module("src/controller", ["src/controller/controller.cc"],
                              deps=["ramp_rollout"]),
    "ramp_kube": module("src/kube", ["src/kube/client.cc"], deps=["ramp_common"]),
    "ramp_traffic_a": module("src/traffic/a", ["src/traffic/a/a_router.cc"]),
    "ramp_traffic_b": module("src/traffic/b", ["src/traffic/b/b_router.cc"],
                             deps=["ramp_traffic_a", "ramp_kube"]),
    "ramp_provider_p": module("src/analysis/providers/p", ["src/analysis/providers/p/p.cc"],
                              deps=["ramp_kube"]),
    "ramp_analysis": module("src/analysis", ["src/analysis/engine.cc"], deps=["ramp_kube"]),
    "demo_runner": {"dir": "demo", "sources": ["demo/runner/main.cc", "demo/runner/stack.cc"],
                    "deps": ["ramp_rollout"], "public": []},
    "rollout_test": {"dir": "tests/rollout", "sources": ["tests/rollout/engine_test.cc"],
                     "deps": ["ramp_rollout"], "public": []},
}

# Every file of the clean tree: path -> text.
CLEAN = {
    "include/ramp/clock.h": "#pragma once\n#include <chrono>\n#include \"ramp/error.h\"\n",
    "include/ramp/error.h": "#pragma once\n",
    "src/common/util.h": "#pragma once\n#include \"ramp/error.h\"\n",
    "src/common/util.cc": "#include \"common/util.h\"\n",
    "src/common/clock.cc": ("#include \"ramp/clock.h\"\n"
                            "auto t = std::chrono::system_clock::now();\n"
                            "void s() { std::this_thread::sleep_for(d); }\n"),
    "src/spec/codec.h": "#pragma once\n",
    "src/spec/codec.cc": "#include \"spec/codec.h\"\n#include \"common/util.h\"\n",
    "src/rollout/engine.h": "#pragma once\n#include \"spec/codec.h\"\n",
    "src/rollout/engine.cc": "#include \"rollout/engine.h\"\n// system_clock::now in a comment\n",
    "src/controller/controller.cc": ("#include \"rollout/engine.h\"\n"
                                     "#include \"spec/codec.h\"\n"),
    "src/kube/client.h": "#pragma once\n",
    "src/kube/client.cc": "#include \"kube/client.h\"\n",
    "src/traffic/a/a_router.h": "#pragma once\n",
    "src/traffic/a/a_router.cc": "#include \"traffic/a/a_router.h\"\n",
    "src/traffic/b/b_router.cc": "#include \"kube/client.h\"\n",
    "src/analysis/engine.cc": "#include \"ramp/clock.h\"\n",
    "src/analysis/providers/p/p.cc": "#include \"kube/client.h\"\n",
    "tests/fakes/fake.h": "#pragma once\n#include \"ramp/clock.h\"\n",
    "tests/rollout/world.h": "#pragma once\n#include \"rollout/engine.h\"\n",
    "tests/rollout/engine_test.cc": ("#include \"rollout/world.h\"\n#include \"fakes/fake.h\"\n"
                                     "#include \"spec/codec.h\"\n"),
    "demo/runner/stack.h": "#pragma once\n",
    "demo/runner/stack.cc": "#include \"runner/stack.h\"\n",
    "demo/runner/main.cc": "#include \"runner/stack.h\"\n#include \"rollout/engine.h\"\n",
}

# (name, files changed from the clean tree, expected findings as (file:line, kind)).
CASES = [
    ("clean tree", {}, []),
    ("undeclared module",
     {"src/spec/codec.cc": "#include \"rollout/engine.h\"\n"},
     [("src/spec/codec.cc:1", "undeclared")]),
    ("a dependency's private DEPS do not count",
     {"src/controller/controller.cc": "#include \"common/util.h\"\n"},
     [("src/controller/controller.cc:1", "undeclared")]),
    ("a test binary's undeclared include",
     {"tests/rollout/engine_test.cc": "#include \"kube/client.h\"\n"},
     [("tests/rollout/engine_test.cc:1", "undeclared")]),
    ("a test header is checked against its directory's binaries",
     {"tests/rollout/world.h": "#pragma once\n\n#include \"controller/controller.h\"\n",
      "src/controller/controller.h": "#pragma once\n"},
     [("tests/rollout/world.h:3", "undeclared")]),
    ("the demo's undeclared include",
     {"demo/runner/main.cc": "#include \"runner/stack.h\"\n#include \"kube/client.h\"\n"},
     [("demo/runner/main.cc:2", "undeclared")]),
    ("bare include in the demo",
     {"demo/runner/main.cc": "#include \"stack.h\"\n"},
     [("demo/runner/main.cc:1", "bare")]),
    ("bare include",
     {"src/spec/codec.cc": "#include \"codec.h\"\n"},
     [("src/spec/codec.cc:1", "bare")]),
    ("bare include in a test",
     {"tests/rollout/engine_test.cc": "#include \"world.h\"\n"},
     [("tests/rollout/engine_test.cc:1", "bare")]),
    ("extension includes another extension, even when declared",
     {"src/traffic/b/b_router.cc": "#include \"traffic/a/a_router.h\"\n"},
     [("src/traffic/b/b_router.cc:1", "extension")]),
    ("the rollout core includes the Kubernetes client",
     {"src/rollout/engine.cc": "#include \"kube/client.h\"\n"},
     [("src/rollout/engine.cc:1", "layer"), ("src/rollout/engine.cc:1", "undeclared")]),
    ("the analysis engine includes the Kubernetes client, though declared",
     {"src/analysis/engine.cc": "#include \"kube/client.h\"\n"},
     [("src/analysis/engine.cc:1", "layer")]),
    ("a seam includes a module header",
     {"include/ramp/error.h": "#pragma once\n#include \"common/util.h\"\n"},
     [("include/ramp/error.h:2", "seam")]),
    ("reading the system clock outside clock.cc",
     {"src/spec/codec.cc": "#include \"spec/codec.h\"\nauto t = std::chrono::system_clock::now();\n"},
     [("src/spec/codec.cc:2", "clock")]),
    ("steady_clock and sleeping outside clock.cc",
     {"src/common/util.cc": ("auto t = std::chrono::steady_clock::now();\n"
                             "void f() { std::this_thread::sleep_until(t); }\n")},
     [("src/common/util.cc:1", "clock"), ("src/common/util.cc:2", "clock")]),
]


class CheckIncludesTest(unittest.TestCase):

    def run_script(self, files):
        with tempfile.TemporaryDirectory() as root:
            for path, text in files.items():
                os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
                with open(os.path.join(root, path), "w", encoding="utf-8") as fh:
                    fh.write(text)
            table = os.path.join(root, "ramp_targets.json")
            with open(table, "w", encoding="utf-8") as fh:
                json.dump({"targets": TARGETS}, fh)
            proc = subprocess.run([sys.executable, SCRIPT, "--table", table, "--root", root],
                                  capture_output=True, text=True, check=False)
            return proc.returncode, proc.stderr

    def test_cases(self):
        for name, changes, expected in CASES:
            with self.subTest(name):
                files = dict(CLEAN)
                files.update(changes)
                code, err = self.run_script(files)
                findings = sorted((line.split(": ")[0], line.split(": ")[1])
                                  for line in err.splitlines()
                                  if not line.startswith("check_includes:"))
                self.assertEqual(findings, sorted(expected), err)
                self.assertEqual(code, 1 if expected else 0, err)

    def test_unreadable_table(self):
        proc = subprocess.run([sys.executable, SCRIPT, "--table", "/nonexistent/table.json"],
                              capture_output=True, text=True, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("cannot read", proc.stderr)


if __name__ == "__main__":
    unittest.main()
