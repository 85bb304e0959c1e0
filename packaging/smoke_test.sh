#!/usr/bin/env bash
# Smoke-test a built bundle the way a person would first use it:
#   1. `alexnet-gui --cli summary --json`            the layer table, no weights needed
#   2. `alexnet-gui --cli classify --json SAMPLE`    a real forward pass through the frozen torch
#   3. `alexnet-gui --cli doctor --json`           the model process, spawned from the frozen
#                                                  program as the window does, classifies SAMPLE
#                                                  and prepares ONNX Runtime (its export process
#                                                  spawned from the frozen program as well)
#   4. `alexnet-gui --help`
#   5. the window started offscreen with a sample image, still running after
#      a few seconds (ended by `timeout`: exit 124 is the pass)
#
#   packaging/smoke_test.sh [BUNDLE_DIR]          (default dist/alexnet-gui)
#
# Step 2 needs weights. Without SMOKE_WEIGHTS=FILE it writes seeded random ones
# with the build environment's Python ($PYTHON, default .venv/bin/python), so
# the test neither downloads nor reads the user's caches: every cache and
# settings folder points into a temporary folder.
set -euo pipefail

bundle=${1:-dist/alexnet-gui}
app="$bundle/alexnet-gui"
python=${PYTHON:-.venv/bin/python}
gui_seconds=${SMOKE_GUI_SECONDS:-15}
[ -x "$app" ] || { echo "smoke_test: no bundle at $app (run make package first)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TORCH_HOME="$work/torch" XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" \
       XDG_DATA_HOME="$work/data" QT_QPA_PLATFORM=offscreen
sample=$(find "$bundle" -path '*alexnet_gui/resources/samples/*' -name '*.jpg' | sort | head -n 1)
[ -n "$sample" ] || { echo "smoke_test: FAIL: no sample images inside the bundle" >&2; exit 1; }

fail() { echo "smoke_test: FAIL: $*" >&2; exit 1; }
step() { echo "smoke_test: $*"; }

step "summary"
"$app" --cli summary --json > "$work/summary.json" || fail "summary exited $?"
"$python" - "$work/summary.json" <<'PY' || fail "summary printed the wrong table"
import json, sys
totals = json.load(open(sys.argv[1]))["totals"]
assert totals["params"] == 61_100_840, totals
PY

weights=${SMOKE_WEIGHTS:-}
if [ -z "$weights" ]; then
    weights="$work/seeded.pth"
    "$python" -c "import sys, torch; from alexnet_gui.core.model import build_model; \
torch.save(build_model(seed=0).state_dict(), sys.argv[1])" "$weights" || fail "could not write test weights with $python"
fi

step "classify $(basename "$sample")"
start=$(date +%s)
"$app" --cli classify --json --weights "$weights" "$sample" > "$work/classify.json" || fail "classify exited $?"
"$python" - "$work/classify.json" <<'PY' || fail "classify printed no top-5"
import json, sys
(result,) = json.load(open(sys.argv[1]))
assert "error" not in result, result
assert len(result["top"]) == 5 and all(0.0 <= s["probability"] <= 1.0 for s in result["top"]), result
print("smoke_test: top-1 %s (%.1f%%)" % (result["top"][0]["label"], 100 * result["top"][0]["probability"]))
PY
step "classify took $(( $(date +%s) - start )) s including start-up"

step "doctor: the model process spawned from the bundle, as the window starts it"
"$app" --cli doctor --json --engine onnxruntime --weights "$weights" "$sample" > "$work/doctor.json" \
    || { cat "$work/doctor.json" >&2; fail "doctor exited $?"; }
"$python" - "$work/doctor.json" <<'PY' || fail "the model process did not classify"
import json, sys
check = json.load(open(sys.argv[1]))["checks"]["model_process"]
assert check["ok"] and check["exit_code"] == 0, check
# ONNX Runtime: the graph export ran in a process spawned from the frozen program too.
assert check["engine"] == "onnxruntime", check
print("smoke_test: " + check["detail"])
PY

step "--help"
"$app" --help | grep -q "usage: alexnet-gui" || fail "--help printed no usage"

step "window, offscreen, for ${gui_seconds} s"
set +e
timeout "$gui_seconds" "$app" "$sample" > "$work/gui.log" 2>&1
status=$?
set -e
if [ "$status" -ne 124 ] || grep -q "Traceback" "$work/gui.log"; then
    cat "$work/gui.log" >&2
    fail "the window exited with $status before ${gui_seconds} s (124 = still running, the pass)"
fi
step "PASS"
