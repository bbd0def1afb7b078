#!/usr/bin/env python3
"""Tests of scripts/tidy.py's choice of files: each case builds a small git repository in a temp
dir (a copy of the script under scripts/, a compile database naming its .cc files), makes the
commits of the case, and checks what `tidy.py --list` would hand to clang-tidy."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "tidy.py")
COMPILED = ["src/a/a.cc", "src/b/b.cc", "tests/a/a_test.cc", "demo/runner/run.cc"]


class TidyFilesTest(unittest.TestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "t@example.com")
        self.git("config", "user.name", "t")
        os.makedirs(os.path.join(self.root, "scripts"))
        shutil.copy(SCRIPT, os.path.join(self.root, "scripts", "tidy.py"))
        os.makedirs(os.path.join(self.root, "build"))
        with open(os.path.join(self.root, "build", "compile_commands.json"), "w",
                  encoding="utf-8") as fh:
            json.dump([{"file": os.path.join(self.root, f), "directory": self.root,
                        "command": "c++ -c " + f} for f in COMPILED], fh)
        self.write({f: "int x;\n" for f in COMPILED})
        self.write({"src/a/a.h": "#pragma once\n", "docs/a.md": "a\n", "README.md": "r\n"})
        with open(os.path.join(self.root, ".gitignore"), "w", encoding="utf-8") as fh:
            fh.write("build/\n")
        self.commit("first")

    def tearDown(self):
        shutil.rmtree(self.root)

    def git(self, *args):
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True)

    def write(self, files):
        for path, text in files.items():
            full = os.path.join(self.root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as fh:
                fh.write(text)

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def listed(self, *extra):
        env = {k: v for k, v in os.environ.items() if k != "RAMP_TIDY_BASE"}
        proc = subprocess.run([sys.executable, os.path.join(self.root, "scripts", "tidy.py"),
                               "--list", *extra, "build"], cwd=self.root, env=env,
                              capture_output=True, text=True, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.split()

    def test_a_fresh_clone_of_main_checks_the_last_commit(self):
        self.write({"src/b/b.cc": "int y;\n", "docs/a.md": "b\n"})
        self.commit("second")
        self.assertEqual(self.listed(), ["src/b/b.cc"])

    def test_a_docs_only_last_commit_checks_nothing(self):
        self.write({"docs/a.md": "b\n"})
        self.commit("docs")
        self.assertEqual(self.listed(), [])

    def test_a_branch_checks_everything_since_main(self):
        self.git("checkout", "-q", "-b", "topic")
        self.write({"src/b/b.cc": "int y;\n"})
        self.commit("one")
        self.write({"demo/runner/run.cc": "int z;\n"})
        self.commit("two")
        self.assertEqual(self.listed(), ["demo/runner/run.cc", "src/b/b.cc"])

    def test_a_changed_header_is_checked_through_its_cc(self):
        self.write({"src/a/a.h": "#pragma once\nint h;\n"})
        self.commit("header")
        self.assertEqual(self.listed(), ["src/a/a.cc"])

    def test_uncommitted_and_untracked_files_count(self):
        self.write({"tests/a/a_test.cc": "int t;\n", "src/b/b.h": "#pragma once\n"})
        self.assertEqual(self.listed(), ["src/b/b.cc", "tests/a/a_test.cc"])

    def test_a_file_only_moved_is_not_a_change(self):
        self.git("mv", "src/b/b.cc", "src/b/c.cc")
        self.commit("move")
        self.assertEqual(self.listed(), [])

    def test_an_explicit_base_and_all(self):
        self.write({"src/b/b.cc": "int y;\n"})
        self.commit("second")
        self.write({"src/a/a.cc": "int y;\n"})
        self.commit("third")
        self.assertEqual(self.listed("--base", "HEAD~2"), ["src/a/a.cc", "src/b/b.cc"])
        self.assertEqual(self.listed("--all"), sorted(COMPILED))


if __name__ == "__main__":
    unittest.main()
