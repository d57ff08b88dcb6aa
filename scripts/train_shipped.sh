#!/usr/bin/env bash
# Trains the seven shipped networks one after another on this machine's CPU and
# publishes them to methods/weights/. Resumable: rerun it and each training
# continues from its checkpoint (finished ones return at once).
# Budgets (minutes of training time each) can be scaled with BUDGET_SCALE=2 etc.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
S=${BUDGET_SCALE:-1}
m() { python3 -c "print($1*$S)"; }
run() {  # model task levels minutes
  "$PY" run_bench.py train --model "$1" --task "$2" --levels "$3" --minutes "$(m "$4")" \
      --recipe fast --out "runs/$1-$2" --publish --val-every 100 --log-every 10
}
run red10 denoise 10,30,50,70 8
run red10 sr 2,3,4 8
run srcnn sr 2,3,4 5
run red20 denoise 10,30,50,70 10
run red20 sr 2,3,4 10
run red30 denoise 10,30,50,70 12
run red30 sr 2,3,4 12
