#!/usr/bin/env bash
# Everything issues 6 and 7 need measured on a GPU, in one device call. Locally first:
#   scripts/device-bundle
# then on the lent machine (the `run` tool, from the repository root):
#   run(carry=["gpu-bundle"], command="bash tests/bench/gpu_run.sh")
# It writes to $OUT: the device, qs-cuda-check's parity report, `bench --json` on CUDA and on
# the CPU for 16384x8192 bf16 tensors, and the whole-model sweep (1B checkpoint, 4 schemes) on
# both backends. Results go to README.md's Benchmarks by hand, with the GPU's name.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
run=gpu-bundle/run
out="${OUT:-/tmp/gpu-out}"
mkdir -p "$out"
log() { echo "== $*" | tee -a "$out/summary.txt"; }

log "device"
nvidia-smi -L 2>&1 | tee -a "$out/summary.txt"
nproc | sed 's/^/cpu cores: /' | tee -a "$out/summary.txt"

log "qs-cuda-check"
$run qs-cuda-check > "$out/cuda-check.txt" 2>&1
echo "exit $?" >> "$out/cuda-check.txt"
tail -3 "$out/cuda-check.txt" | tee -a "$out/summary.txt"

log "bench 16384x8192 bf16, CUDA then CPU"
for scheme in int4:g128 nf4:g64 mxfp4 nvfp4 fp8_e4m3 q8_0 int8:channel q2_k q4_k q5_k q6_k iq4_nl; do
    for backend in cuda cpu; do
        f="$out/bench-$backend-${scheme//:/_}.json"
        $run quantscope-cli bench --scheme "$scheme" --shape 16384x8192 --dtype bf16 \
            --backend "$backend" --repeat 20 --warmup 3 --json > "$f" 2> "$f.err"
        echo "$scheme $backend: $(tr -d '\n' < "$f" | grep -o '"median_ms":[^,]*,\|"copy_fraction":[^,}]*\|"device":"[^"]*"' | tr '\n' ' ')" |
            tee -a "$out/summary.txt"
    done
done

log "whole-model sweep: 1B bf16, int4:g128 nf4:g64 q4_k mxfp4"
ckpt=/tmp/qs-llama-1b-bf16.safetensors
[ -f "$ckpt" ] || $run qs-make-checkpoint "$ckpt" | tee -a "$out/summary.txt"
for backend in cuda cpu; do
    for i in 1 2 3; do
        start=$(date +%s%N)
        $run quantscope-cli analyze "$ckpt" --scheme int4:g128 --scheme nf4:g64 --scheme q4_k \
            --scheme mxfp4 --backend "$backend" --json > "$out/sweep-$backend-$i.json" 2> "$out/sweep-$backend-$i.err"
        end=$(date +%s%N)
        echo "sweep $backend run $i: $(( (end - start) / 1000000 )) ms" | tee -a "$out/summary.txt"
    done
done
log "done"
