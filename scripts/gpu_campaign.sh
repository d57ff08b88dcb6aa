#!/usr/bin/env bash
# One-shot GPU campaign: the whole training plan (campaign/plan.toml) with its GPU budgets, about
# 8 minutes of training on one H100, in one command. Checks imports and CUDA and runs a few steps
# of every network first (fails within a minute, with a message), then trains the plan, then packs
# weights, cards and logs into at most 8 archives in $OUT (the device tool's return folder).
#
#   here, first:   python scripts/gpu_prepare.py          # images + wheels into gpu_bundle/ (git-ignored)
#   on the device: bash scripts/gpu_campaign.sh           # device call with carry: ["gpu_bundle"]
#   here, after:   python scripts/gpu_unpack.py <folder with the archives>
#
# Settings (environment): OUT (archives; default runs/gpu-results), PLAN, DEVICE (cuda; cpu for the
# test suite), BUNDLE (gpu_bundle), WORK (scratch, default runs/gpu-campaign), TRAIN_SECONDS (540:
# training stops there with a checkpoint so that packing always runs), PYTHON, SEED (the committed networks
# that already meet their GPU budget are copied in and skipped, and do not come back; default
# methods/weights, "none" to train the whole plan); EVAL=1 then evaluates on the device (EVAL_CMD, default
# `run_bench.py reproduce --networks-only --quiet --jobs 8 [--datasets $EVAL_DATASETS]`, for at most
# EVAL_SECONDS, default 150) with what it trained installed, and packs the rows of every results folder under
# ROWS_ROOT (results) with the logs; CHECK=1 then runs scripts/gpu_check.py into $OUT/gpu_check.json.
# TRAIN_SECONDS=0 makes an evaluation-only call. FIGURE3=1 makes a Figure 3 call instead: scripts/figure3.py
# (FIGURE3_ARGS, e.g. "--panel 3b") for at most TRAIN_SECONDS, its finished runs packed into $OUT/figure3.tar.gz.
# What fits in one call, and
# the order of calls in a session that is lent a GPU: docs/gpu.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PLAN=${PLAN:-campaign/plan.toml}
DEVICE=${DEVICE:-cuda}
BUNDLE=${BUNDLE:-gpu_bundle}
WORK=${WORK:-runs/gpu-campaign}
RESULTS=${OUT:-runs/gpu-results}
TRAIN_SECONDS=${TRAIN_SECONDS:-540}
EVAL=${EVAL:-0}
EVAL_SECONDS=${EVAL_SECONDS:-150}
EVAL_DATASETS=${EVAL_DATASETS:-}
EVAL_CMD=${EVAL_CMD:-run_bench.py reproduce --networks-only --quiet --jobs 8${EVAL_DATASETS:+ --datasets $EVAL_DATASETS}}
ROWS_ROOT=${ROWS_ROOT:-results}
INSTALL_DIR=${INSTALL_DIR:-methods/weights}   # the device's copy of the checkout; tests point it elsewhere
export PYTHONUNBUFFERED=1 REDBENCH_CACHE="$WORK/cache" REDBENCH_DATA_DIR="$BUNDLE/datasets"
mkdir -p "$WORK" "$RESULTS"
fail() { echo "gpu_campaign: $*" >&2; exit 3; }

[ -d "$BUNDLE/datasets" ] || fail "no $BUNDLE/datasets: run 'python scripts/gpu_prepare.py' here and carry $BUNDLE"
if compgen -G "$BUNDLE/wheels/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$WORK/site" \
      "$BUNDLE"/wheels/*.whl || fail "installing the wheels in $BUNDLE/wheels failed"
  export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" -c "import torch, numpy, scipy, skimage, safetensors, resize_right, PIL, pandas, matplotlib" \
  || fail "a required package is missing; add its wheel with scripts/gpu_prepare.py"
if [ "$DEVICE" = cuda ]; then
  "$PY" -c "import torch, sys; torch.cuda.is_available() or sys.exit('CUDA is not available'); print('gpu:', torch.cuda.get_device_name(), 'torch', torch.__version__)" \
    || fail "no usable CUDA device"
fi
if [ "${FIGURE3:-0}" = 1 ]; then   # a Figure 3 call: its experiments at 20,000 updates, no plan, no evaluation
  # shellcheck disable=SC2086
  timeout -s TERM "$TRAIN_SECONDS" "$PY" scripts/figure3.py --device "$DEVICE" ${FIGURE3_ARGS:-} \
    2>&1 | tee "$WORK/figure3.log"
  "$PY" scripts/figure3.py --pack-only "$RESULTS" || fail "packing the Figure 3 runs failed"   # what finished
  exit 0
fi
SEED=${SEED:-methods/weights}
if [ "$SEED" != none ]; then
  "$PY" scripts/gpu_unpack.py --seed "$WORK" --plan "$PLAN" --weights-dir "$SEED" || fail "seeding from $SEED failed"
fi
ARGS=(--plan "$PLAN" --target gpu --device "$DEVICE" --nice 0 --publish-dir "$WORK/weights" --work-dir "$WORK/work")
if [ "$TRAIN_SECONDS" = 0 ]; then   # an evaluation call: nothing to train, nothing trained to install
  echo "TRAIN_SECONDS=0: no training in this call"
else
timeout 90 "$PY" run_bench.py train "${ARGS[@]}" --preflight 3 > "$WORK/preflight.log" 2>&1 \
  || { tail -20 "$WORK/preflight.log"; fail "the preflight (3 steps of every network) failed or took over 90 s"; }
grep '^preflight' "$WORK/preflight.log"

start=$(date +%s)
timeout -s TERM "$TRAIN_SECONDS" "$PY" run_bench.py train "${ARGS[@]}" 2>&1 | tee "$WORK/train.log"
status=${PIPESTATUS[0]}
echo "training ended with status $status after $(( $(date +%s) - start )) s"
"$PY" scripts/gpu_unpack.py --pack "$WORK" --plan "$PLAN" --results "$RESULTS" || fail "packing failed"
fi
[ "$EVAL" = 1 ] || exit 0

# Evaluation on the device: install what this call trained by the rule the unpack here will apply (this
# checkout is the device's copy, discarded after the call), evaluate every RED cell the report needs with
# the networks on the GPU, then pack again with the rows. The rows come back even when EVAL_SECONDS cuts the
# evaluation short: each finished restoration is already in its folder's store.
if [ "$TRAIN_SECONDS" != 0 ]; then
  "$PY" scripts/gpu_unpack.py "$RESULTS" --weights-dir "$INSTALL_DIR" --log-dir "$WORK/installed-logs" \
    --rows-root "$WORK/no-rows" || fail "installing the trained networks on the device failed"
fi
start=$(date +%s)
# shellcheck disable=SC2086
timeout -s TERM "$EVAL_SECONDS" "$PY" $EVAL_CMD --device "$DEVICE" 2>&1 | tee "$WORK/eval.log"
echo "evaluation ended with status ${PIPESTATUS[0]} after $(( $(date +%s) - start )) s"
if [ "${CHECK:-0}" = 1 ]; then   # GPU against CPU on the same restorations (docs/gpu.md)
  timeout 120 "$PY" scripts/gpu_check.py --gpu "$DEVICE" --json "$RESULTS/gpu_check.json" 2>&1 | tee "$WORK/check.log"
fi
"$PY" scripts/gpu_unpack.py --pack "$WORK" --plan "$PLAN" --results "$RESULTS" --with-rows --rows-root "$ROWS_ROOT" \
  || fail "packing the rows failed"
exit 0
