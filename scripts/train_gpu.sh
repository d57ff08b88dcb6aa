#!/usr/bin/env bash
# Trains the seven shipped networks on one CUDA GPU in about 8 minutes in all and writes weights,
# cards and logs under ${OUT:-runs/gpu}. For the device machine: run once, then copy
# $OUT/*/<name>.{safetensors,json} into methods/weights/. Not yet run on a GPU by this project.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${OUT:-runs/gpu}
run() {  # model task levels minutes
  "$PY" run_bench.py train --model "$1" --task "$2" --levels "$3" --minutes "$4" --device cuda \
      --recipe fast --batch-size 128 --out "$OUT/$1-$2" --val-every 200 --log-every 50 --checkpoint-seconds 30
}
run srcnn sr 2,3,4 0.5
run red10 denoise 10,30,50,70 0.8
run red10 sr 2,3,4 0.8
run red20 denoise 10,30,50,70 1.2
run red20 sr 2,3,4 1.2
run red30 denoise 10,30,50,70 1.6
run red30 sr 2,3,4 1.6
