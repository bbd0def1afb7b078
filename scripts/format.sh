#!/bin/sh
# format.sh check|fix — clang-format over every C++ file the project owns.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard -- \
  'include/*.h' 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc' 'bench/*.h' \
  'fuzz/*.cc' 'demo/*.cc' 'demo/*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ -n "$files" ] || exit 0
if [ "${1:-check}" = fix ]; then
  echo "$files" | xargs clang-format -i
else
  if ! echo "$files" | xargs clang-format --dry-run --Werror 2>/tmp/ramp-format.$$; then
    head -40 /tmp/ramp-format.$$ >&2; rm -f /tmp/ramp-format.$$
    echo "format check failed: run 'make format'" >&2
    exit 1
  fi
  rm -f /tmp/ramp-format.$$
  echo "format check: $(echo "$files" | wc -l) files clean"
fi
