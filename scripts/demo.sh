#!/bin/sh
# demo.sh — ramp's main job. Until the demo (issue 6) lands, it builds ramp and lints examples/.
set -eu
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build build/release -j 2 --target ramp
echo "The live demo (a release through HAProxy with Prometheus analysis) is not built yet."
echo "Meanwhile: linting the example manifests with 'ramp lint'."
exec build/release/ramp lint -f examples/canary-rollout.yaml -f examples/bluegreen-rollout.yaml \
  -f examples/analysis-templates.yaml
