#!/usr/bin/env bash
# The CPU background queue of the open issues, in order. Every step skips what is done and resumes what stopped
# (checkpoints, cached rows, the probe's CSV), so each session starts it again with the same command:
#
#   REDBENCH_DATA_DIR=../shared/datasets nice -n 19 bash scripts/cpu_queue.sh [TARGET]
#
# TARGET is the checkout that receives the checkpoints and results (default: this one). Run the queue from a frozen
# copy of the code (`git worktree add --detach ../camp HEAD`, then `bash ../camp/scripts/cpu_queue.sh $PWD`), so
# that edits in your checkout cannot break a run in progress. SIGTERM ends the running step with a checkpoint and
# stops the queue. What to commit, at least hourly, and the commands that follow: docs/training.md, "The CPU queue".
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
TARGET=$(cd "${1:-$HERE}" && pwd)
PY=${PYTHON:-python}
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 PYTHONUNBUFFERED=1   # core/allocator.py
FIG3=(--work "$TARGET/campaign/work-figure3" --results "$TARGET/results/experiments-20k")

step() {
    echo "== $(date -u '+%F %H:%M') $*"
    "$@" || { code=$?; echo "== stopped (exit $code): the same command resumes"; exit "$code"; }
}

# 1. Figure 3 at 20,000 updates (issue 22, item 2): 3(c), then 3(a) (two short runs), then 3(b)
step "$PY" "$HERE/scripts/figure3.py" --panel 3c "${FIG3[@]}"
step "$PY" "$HERE/scripts/figure3.py" --panel 3a "${FIG3[@]}"
step "$PY" "$HERE/scripts/figure3.py" --panel 3b "${FIG3[@]}"
# 2. every network cell of the report, x8 included (issue 22, item 3); rows already stored are not computed again
cd "$TARGET" || exit 2
step "$PY" run_bench.py reproduce --networks-only --datasets set14,bsd100,bsd200-half,bsd68
# 3. the probe that chooses leg 1's batch and peak learning rate (issue 31, item 2)
step "$PY" "$HERE/scripts/leg_probe.py" --installed red30-denoise-single --patches 24000 \
    --grid 16:1e-4,16:3e-4,32:2e-4,32:5e-4 --work "$TARGET/campaign/work-leg1-probe"
echo "== queue done: leg 1's --batch-size and --lr come from campaign/work-leg1-probe/probe.md (docs/training.md, Leg 1)"
