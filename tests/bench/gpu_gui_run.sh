#!/usr/bin/env bash
# The GUI's sweep on the lent GPU machine: gui_stall_bench (the Model tab sweeping the 1B
# checkpoint under four schemes while a 5 ms timer measures the event loop), RUNS times on CUDA
# and on the CPU. Locally first: QS_BUNDLE_GUI=1 scripts/device-bundle; then
#   run(carry=["gpu-carry-gui"], command="bash tests/bench/gpu_gui_run.sh")
# Results in $OUT/gui-summary.txt (also printed).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -d gpu-gui ] || xz -dc gpu-carry-gui/gui.tar.xz | tar -xf - || { echo "no gpu-gui" >&2; exit 1; }
OUT="${OUT:-/tmp/gpu-out}"
mkdir -p "$OUT"
log() { echo "$*" | tee -a "$OUT/gui-summary.txt"; }
log "== $(nvidia-smi -L 2>&1 | head -1); $(nproc) CPU cores"
ckpt=/tmp/qs-llama-1b-bf16.safetensors
[ -f "$ckpt" ] || timeout 200 gpu-gui/run qs-make-checkpoint "$ckpt" | tail -1 | tee -a "$OUT/gui-summary.txt"
for backend in ${BACKENDS:-cuda cpu}; do
    for i in $(seq 1 "${RUNS:-3}"); do
        log "-- gui sweep, QS_BACKEND=$backend, run $i"
        QS_BACKEND=$backend timeout 240 gpu-gui/run gui_stall_bench "$ckpt" "int4:g128, nf4:g64, q4_k, mxfp4" \
            > /tmp/gui-$backend-$i.txt 2>&1
        echo "exit $?" >> /tmp/gui-$backend-$i.txt
        grep -E '^(computed|tensors|sweep|stall|exit)' /tmp/gui-$backend-$i.txt | tee -a "$OUT/gui-summary.txt"
        grep -v -E '^(computed|tensors|sweep|stall|exit)' /tmp/gui-$backend-$i.txt | sort | uniq -c | sort -rn | head -3 |
            tee -a "$OUT/gui-summary.txt"
    done
done
