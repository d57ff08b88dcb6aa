#!/usr/bin/env bash
# The CPU background queue of the open issues, in order. Every step skips what is done and resumes what stopped
# (checkpoints, stored rows, the probe's committed candidates), so each session starts it again with the same command:
#
#   REDBENCH_DATA_DIR=../shared/datasets nice -n 19 bash scripts/cpu_queue.sh [TARGET]
#
# TARGET is the checkout that receives the checkpoints and results (default: this one). Run the queue from a frozen
# copy of the code (`git worktree add --detach ../camp HEAD`, then `bash ../camp/scripts/cpu_queue.sh $PWD`): every
# step runs that copy's code and networks, so edits in your checkout cannot break a run in progress. SIGTERM or
# Ctrl-C to the queue reaches the running step, which checkpoints; the queue then stops with the step's exit code.
# What to commit, at least hourly, and what follows: docs/training.md, "The CPU queue".
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
TARGET=$(cd "${1:-$HERE}" 2>/dev/null && pwd) || {
    echo "error: '${1:-}' is not a folder; give the checkout that receives the results (default: this one)." >&2
    exit 2
}
PY=${PYTHON:-python}
export PYTHONUNBUFFERED=1   # the allocator setting each script sets itself (core/allocator.py)
FIG3=(--work "$TARGET/campaign/work-figure3" --results "$TARGET/results/experiments-20k")

child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT

step() {
    echo "== $(date -u '+%F %H:%M') $*"
    "$@" &
    child=$!
    # wait returns early when the queue itself is signalled (the trap passes the signal on): wait until the step
    # has checkpointed and ended, then take its own exit code
    while kill -0 "$child" 2>/dev/null; do wait "$child"; done
    wait "$child"
    local code=$?
    child=
    if [ "$code" -ne 0 ]; then
        echo "== stopped (exit $code): the same command resumes"
        exit "$code"
    fi
}

# 1. Figure 3 at 20,000 updates (issue 22, item 2): 3(c), then 3(a) (two short runs), then 3(b)
step "$PY" "$HERE/scripts/figure3.py" --panel 3c "${FIG3[@]}"
step "$PY" "$HERE/scripts/figure3.py" --panel 3a "${FIG3[@]}"
step "$PY" "$HERE/scripts/figure3.py" --panel 3b "${FIG3[@]}"
# 2. every network cell of the report, x8 included (issue 22, item 3), into TARGET/results (the reproduction's
# folder is relative to where it runs); rows already stored are not computed again
cd "$TARGET" || exit 2
step "$PY" "$HERE/run_bench.py" reproduce --networks-only --datasets set14,bsd100,bsd200-half,bsd68
# 3. the probe that chooses leg 1's batch and peak learning rate (issue 31, item 2)
step "$PY" "$HERE/scripts/leg_probe.py" --installed red30-denoise-single --patches 24000 \
    --grid 16:1e-4,16:3e-4,32:2e-4,32:5e-4 --work "$TARGET/campaign/work-leg1-probe"
echo "== queue done: leg 1's --batch-size and --lr come from campaign/work-leg1-probe/probe.md (docs/training.md, Leg 1)"
