#!/usr/bin/env python3
"""tidy.py: clang-tidy (the repository's .clang-tidy) on the C++ files a change touches.

`make test` runs it after the build. Which files:
  - by default, every .cc/.h changed between a base commit and the working tree (committed,
    staged, unstaged and untracked; a file only moved is not changed). The base is $RAMP_TIDY_BASE if set, else the merge-base
    with origin/main (else main); when that is HEAD itself (a fresh clone of main, as in CI),
    the last commit's files (HEAD~1), so every commit is checked once as it lands;
  - with --all, every file in the compile database (slow: minutes per dozen files).
A changed header is checked through the .cc of the same name, and findings are reported only in
changed files (--line-filter), so untouched code never fails a change. Which findings fail the
run: the .clang-tidy's WarningsAsErrors (bugprone-*); the other checks are printed as warnings.

Bounded time: each file gets --timeout seconds (default 300; a timeout fails the run, naming
the file, because its code went unchecked), files run --jobs at a time (default 2).

--list prints the translation units it would check, one per line, and runs nothing (no
clang-tidy needed): what tests/scripts/tidy_test.py checks.

Usage: tidy.py [--all] [--list] [--base REV] [--jobs N] [--timeout S] [build dir]
Exit 0 when clean, 1 on findings or timeouts, 2 when it cannot run (no clang-tidy-16, no
compile_commands.json: configure first).
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TIDY = "clang-tidy-16"
# clang 16 spells C++23 as c++2b, and libstdc++ 12 exposes <expected> only when __cpp_concepts
# says 202002 (docs/building.md, "Why the fuzz preset uses clang 16").
EXTRA_ARGS = ["-std=c++2b", "-Wno-unknown-warning-option", "-Wno-builtin-macro-redefined",
              "-U__cpp_concepts", "-D__cpp_concepts=202002L"]
SOURCE_TREES = ("include/", "src/", "tests/", "bench/", "fuzz/", "demo/")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def base_commit(explicit):
    if explicit:
        return explicit
    if os.environ.get("RAMP_TIDY_BASE"):
        return os.environ["RAMP_TIDY_BASE"]
    head = git("rev-parse", "HEAD").stdout.strip()
    for ref in ("origin/main", "main"):
        mb = git("merge-base", "HEAD", ref)
        if mb.returncode == 0:
            base = mb.stdout.strip()
            if base != head:
                return base
            break
    parent = git("rev-parse", "--verify", "-q", "HEAD~1")
    return parent.stdout.strip() if parent.returncode == 0 else None


def changed_files(base):
    names = set()
    # A file moved without a change (R100) is not a change: its findings predate the move. No
    # base (a repository of one commit): what the working tree changed since HEAD.
    diff = git("diff", "--name-status", "-M", "--diff-filter=d", base or "HEAD")
    for line in diff.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] != "R100":
            names.add(fields[-1])
    names |= set(git("ls-files", "--others", "--exclude-standard").stdout.split())
    return sorted(n for n in names if n.endswith((".cc", ".h")) and n.startswith(SOURCE_TREES)
                  and os.path.isfile(os.path.join(ROOT, n)))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default="build/asan-ubsan")
    parser.add_argument("--all", action="store_true", help="every file, not only changed ones")
    parser.add_argument("--base", help="compare against this commit")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    parser.add_argument("--timeout", type=int, default=300, help="seconds per file")
    parser.add_argument("--list", action="store_true", help="print the files; run nothing")
    args = parser.parse_args(argv)

    if not args.list and not shutil.which(TIDY):
        print(f"tidy: {TIDY} not found (scripts/bootstrap.sh installs it)", file=sys.stderr)
        return 2
    db_path = os.path.join(ROOT, args.build, "compile_commands.json")
    try:
        with open(db_path, encoding="utf-8") as fh:
            db = json.load(fh)
    except (OSError, ValueError) as e:
        print(f"tidy: cannot read {db_path} ({e}): run `make configure` first", file=sys.stderr)
        return 2
    compiled = {os.path.relpath(entry["file"], ROOT) for entry in db}

    if args.all:
        changed = sorted(f for f in compiled if f.startswith(SOURCE_TREES))
    else:
        changed = changed_files(base_commit(args.base))
    units = set()
    for f in changed:
        unit = f if f.endswith(".cc") else f[:-2] + ".cc"
        if unit in compiled:
            units.add(unit)
    units = sorted(units)
    if args.list:
        for unit in units:
            print(unit)
        return 0
    if not units:
        print(f"tidy: no changed file to check ({len(changed)} changed, none compiled)")
        return 0

    line_filter = json.dumps([{"name": os.path.join(ROOT, f)} for f in changed])

    def run(unit):
        cmd = [TIDY, "-p", os.path.join(ROOT, args.build), "--quiet",
               f"--line-filter={line_filter}"] + [f"--extra-arg={a}" for a in EXTRA_ARGS]
        cmd.append(os.path.join(ROOT, unit))
        try:
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                               timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            return unit, None, ""
        findings = [line for line in p.stdout.splitlines()
                    if ": warning: " in line or ": error: " in line]
        return unit, p.returncode, "\n".join(findings)

    failed = []
    print(f"tidy: {len(units)} file(s), {args.jobs} at a time, {args.timeout} s each")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for unit, code, findings in pool.map(run, units):
            if code is None:
                failed.append(unit)
                print(f"{unit}: tidy: not checked: clang-tidy took over {args.timeout} s",
                      file=sys.stderr)
                continue
            if findings:
                print(findings.replace(ROOT + "/", ""), file=sys.stderr)
            if code != 0:
                failed.append(unit)
    if failed:
        print(f"tidy: {len(failed)} file(s) failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    print(f"tidy: {len(units)} file(s) clean of errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
