#!/usr/bin/env python3
"""check_includes.py: the module boundaries the build promises, checked on every build.

Every module compiles with all of src/ on its include path (cmake/ramp_module.cmake), so the
compiler alone would let a module include a header of a module it does not declare. This script
reads the build's target table (cmake/ramp_targets.cmake writes it: each target's directory,
sources, linked libraries and the libraries it passes on) and every quoted #include under
include/, src/, tests/, fuzz/, bench/ and demo/, and reports, as file:line: message:

  undeclared   a file includes a header of a module its target does not declare: neither in its
               DEPS/PUBLIC_DEPS nor passed on through the PUBLIC_DEPS of one of those (a
               dependency's private DEPS do not count, as with per-target include directories).
  bare         an include spelled relative to the including file ("engine.h") instead of by its
               module path ("analysis/engine.h").
  extension    an extension (src/platform/<x>, src/traffic/<x>, src/store/<x>,
               src/analysis/providers/<x>) includes another extension. Shared code goes in a
               common module (src/common, src/store/common).
  layer        a layer includes what docs/architecture.md forbids it (the rollout core, spec,
               controller and analysis engine never include the Kubernetes client, src/kube).
  seam         a header under include/ramp/ includes something outside include/ramp/.
  clock        system_clock::now, steady_clock::now, sleep_for or sleep_until outside
               src/common/clock.cc: time comes from the injected Clock (include/ramp/clock.h).

Usage: check_includes.py --table <build>/ramp_targets.json [--root <source dir>]
Exit status 0 when clean, 1 with one line per finding on stderr, 2 on bad input.
"""

import argparse
import json
import os
import re
import sys

CHECKED_TREES = ("include", "src", "tests", "fuzz", "bench", "demo")
SUFFIXES = (".h", ".cc", ".hpp", ".cpp")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
CLOCK_RE = re.compile(r"\b(?:system_clock|steady_clock|high_resolution_clock)::now\b|"
                      r"\bsleep_for\b|\bsleep_until\b")
CLOCK_HOME = "src/common/clock.cc"
EXTENSION_PARENTS = ("src/platform", "src/traffic", "src/store", "src/analysis/providers")
SHARED_EXTENSION_DIRS = ("src/store/common",)
# (includer prefix, exempt includer prefixes, included prefix, why)
LAYER_RULES = [
    (p, ex, "src/kube/", "the core and the controller talk to Kubernetes only through seams "
     "(docs/architecture.md)")
    for p, ex in (("src/rollout/", ()), ("src/spec/", ()), ("src/controller/", ()),
                  ("src/analysis/", ("src/analysis/providers/",)))
]


def extension_of(path):
    """The extension folder a src/ path lies in (src/traffic/haproxy), or None."""
    for parent in EXTENSION_PARENTS:
        if path.startswith(parent + "/"):
            rest = path[len(parent) + 1:]
            if "/" not in rest:
                return None  # a file of the parent module itself (providers/builtin.cc)
            ext = parent + "/" + rest.split("/", 1)[0]
            if ext in SHARED_EXTENSION_DIRS:
                return None
            return ext
    return None


class Table:
    """The target table: who owns each file, and what each target may include."""

    def __init__(self, targets):
        self.targets = targets
        self.by_source = {}
        self.by_dir = {}
        for name, t in targets.items():
            for s in t["sources"]:
                self.by_source.setdefault(s, []).append(name)
            self.by_dir.setdefault(t["dir"], []).append(name)
        self._allowed = {}

    def passed_on(self, name, seen=None):
        """name plus everything it passes on through PUBLIC links, transitively."""
        seen = set() if seen is None else seen
        if name in seen:
            return seen
        seen.add(name)
        for p in self.targets.get(name, {}).get("public", []):
            self.passed_on(p, seen)
        return seen

    def allowed(self, name):
        """Targets whose headers `name` may include."""
        if name not in self._allowed:
            result = {name}
            for d in self.targets[name]["deps"]:
                result |= self.passed_on(d)
            result |= self.passed_on(name)
            self._allowed[name] = result
        return self._allowed[name]

    def compiled_by(self, path):
        """Targets that compile `path` (a source), or else the targets of its directory
        (a header). Empty when no target owns the file or its directory."""
        if path in self.by_source:
            return self.by_source[path]
        return self.owners_in_dir(path)

    def owners_in_dir(self, path):
        d = os.path.dirname(path)
        names = self.by_dir.get(d, [])
        stem = os.path.splitext(os.path.basename(path))[0]
        matching = [n for n in names
                    if any(os.path.splitext(s)[0] == os.path.join(d, stem)
                           for s in self.targets[n]["sources"])]
        return matching or names

    def owner_of_header(self, path):
        """The modules a src/ header belongs to: its directory's target(s), else the targets
        of the nearest ancestor directory that has some."""
        owners = self.owners_in_dir(path)
        d = os.path.dirname(os.path.dirname(path))
        while not owners and d:
            owners = self.by_dir.get(d, [])
            d = os.path.dirname(d)
        return owners


def strip_comment(line):
    i = line.find("//")
    return line if i < 0 else line[:i]


def check(root, table):
    findings = []
    files = []
    for tree in CHECKED_TREES:
        base = os.path.join(root, tree)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "corpus"))
            for f in sorted(filenames):
                if f.endswith(SUFFIXES):
                    files.append(os.path.relpath(os.path.join(dirpath, f), root))

    for path in files:
        tree = path.split("/", 1)[0]
        roots = ["include", "src"] + (["tests"] if tree in ("tests", "fuzz", "bench") else
                                      ["demo"] if tree == "demo" else [])
        users = table.compiled_by(path)
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().split("\n")
        for lineno, line in enumerate(lines, 1):
            where = f"{path}:{lineno}"
            if (tree in ("src", "include") and path != CLOCK_HOME
                    and CLOCK_RE.search(strip_comment(line))):
                findings.append(f"{where}: clock: reads time or sleeps directly; use the "
                                f"injected Clock (include/ramp/clock.h)")
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            spelled = m.group(1)
            findings.extend(check_include(root, table, path, where, spelled, roots, users))
    return findings


def resolve(root, path, spelled, roots):
    """What the compiler finds for #include "spelled" in `path`, and whether it was found
    through a root (include/, src/, tests/) rather than beside the includer."""
    beside = os.path.normpath(os.path.join(os.path.dirname(path), spelled))
    if os.path.isfile(os.path.join(root, beside)):
        for r in roots:
            if os.path.normpath(os.path.join(r, spelled)) == beside:
                return beside, True
        return beside, False
    for r in roots:
        candidate = os.path.normpath(os.path.join(r, spelled))
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate, True
    return None, True


def check_include(root, table, path, where, spelled, roots, users):
    target, rooted = resolve(root, path, spelled, roots)
    tree = path.split("/", 1)[0]
    if target is None:
        return []  # generated or external: the compiler reports what is missing
    if not rooted:
        suggestion = next((os.path.relpath(target, r) for r in roots
                           if target.startswith(r + "/")), target)
        return [f'{where}: bare: "{spelled}" does not name its module path; '
                f'write "{suggestion}"']
    if tree == "include":
        if not target.startswith("include/ramp/"):
            return [f'{where}: seam: include/ramp/ headers include only the standard library '
                    f'and each other, not "{spelled}"']
        return []
    if not target.startswith("src/"):
        if tree == "src" and not target.startswith("include/"):
            return [f'{where}: layer: src/ includes test code "{spelled}"']
        return []  # seams, and test support headers from tests/, fuzz/ and bench/

    out = []
    for prefix, exempt, forbidden, why in LAYER_RULES:
        if (path.startswith(prefix) and not path.startswith(exempt)
                and target.startswith(forbidden)):
            out.append(f'{where}: layer: {prefix} may not include {forbidden} ("{spelled}"): '
                       f'{why}')
    mine, theirs = extension_of(path), extension_of(target)
    if mine and theirs and mine != theirs:
        out.append(f'{where}: extension: {mine} includes another extension, {theirs} '
                   f'("{spelled}"); share code through a common module')

    owners = table.owner_of_header(target)
    if not owners or not users:
        return out
    for user in users:
        allowed = table.allowed(user)
        if not any(o in allowed for o in owners):
            out.append(f'{where}: undeclared: "{spelled}" belongs to {" or ".join(owners)}, '
                       f'which {user} does not declare (add it to its DEPS, or to the '
                       f'PUBLIC_DEPS of a module {user} declares)')
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", required=True, help="ramp_targets.json from the build")
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."),
                        help="source root (default: this script's repository)")
    args = parser.parse_args(argv)
    try:
        with open(args.table, encoding="utf-8") as fh:
            targets = json.load(fh)["targets"]
    except (OSError, ValueError, KeyError) as e:
        print(f"check_includes: cannot read {args.table}: {e}", file=sys.stderr)
        return 2
    findings = check(os.path.abspath(args.root), Table(targets))
    for f in findings:
        print(f, file=sys.stderr)
    if findings:
        print(f"check_includes: {len(findings)} finding(s); see scripts/check_includes.py "
              f"and docs/architecture.md (module boundaries)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
