#!/usr/bin/env bash
# Everything issues 6 and 7 need measured on a GPU, in one device call. Locally first:
#   scripts/device-bundle
# then on the lent machine (the `run` tool, from the repository root):
#   run(carry=["gpu-carry"], command="bash tests/bench/gpu_run.sh [SECTION...]")
# Sections (all by default, in this order):
#   check     qs-cuda-check's parity report
#   sanitize  qs-cuda-check under compute-sanitizer (memcheck, then racecheck)
#   bench     `bench --json` on CUDA (20 repeats) and on the CPU (5) for 16384x8192 bf16 tensors
#             (BACKENDS="cuda" for the GPU alone)
#   torch     the same analysis through torch.compile (tests/bench/torch_compile_bench.py)
#   sweep     the whole-model sweep (1B checkpoint, 4 schemes) on both backends
# Each step has a time limit, so one hang costs only its own step. Results land in $OUT:
# summary.txt (also printed) and results.tgz (every log and JSON; the device tool returns at
# most 8 files). They go to README.md's Benchmarks by hand, with the GPU's name.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -d gpu-bundle ] || tar -xzf gpu-carry/bundle.tgz || { echo "no gpu-bundle: run scripts/device-bundle" >&2; exit 1; }
run=gpu-bundle/run
OUT="${OUT:-/tmp/gpu-out}"
work=/tmp/gpu-work
rm -rf "$work"
mkdir -p "$OUT" "$work"
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(check sanitize bench torch sweep)
log() { echo "== $*" | tee -a "$OUT/summary.txt"; }
# limited SECONDS CMD...: the command, killed after SECONDS.
limited() { local s=$1; shift; timeout -k 5 "$s" "$@"; }
pack() { tar -C "$work" -czf "$OUT/results.tgz" . 2>/dev/null; }
trap pack EXIT

log "device"
nvidia-smi -L 2>&1 | tee -a "$OUT/summary.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv 2>&1 |
    tee -a "$OUT/summary.txt"
nproc | sed 's/^/cpu cores: /' | tee -a "$OUT/summary.txt"

for section in "${sections[@]}"; do
case "$section" in
check)
    log "qs-cuda-check"
    limited 300 $run qs-cuda-check > "$work/cuda-check.txt" 2>&1
    echo "exit $?" >> "$work/cuda-check.txt"
    grep -E '^(device|FAIL|skip|     )' "$work/cuda-check.txt" | head -80 | tee -a "$OUT/summary.txt"
    tail -2 "$work/cuda-check.txt" | tee -a "$OUT/summary.txt"
    ;;
sanitize)
    for tool in memcheck racecheck; do
        log "compute-sanitizer --tool $tool qs-cuda-check"
        LD_LIBRARY_PATH="$PWD/gpu-bundle/lib" limited 240 compute-sanitizer --tool "$tool" \
            --print-limit 20 gpu-bundle/qs-cuda-check > "$work/sanitize-$tool.txt" 2>&1
        echo "exit $?" >> "$work/sanitize-$tool.txt"
        grep -E '^========= (ERROR SUMMARY|Invalid|Race|Error)' "$work/sanitize-$tool.txt" |
            sort | uniq -c | head -10 | tee -a "$OUT/summary.txt"
        tail -2 "$work/sanitize-$tool.txt" | tee -a "$OUT/summary.txt"
    done
    ;;
bench)
    log "bench 16384x8192 bf16, CUDA then CPU"
    for scheme in int4:g128 nf4:g64 mxfp4 nvfp4 fp8_e4m3 q8_0 int8:channel mulaw4 q2_k q4_k q5_k q6_k iq4_nl hqq4:g64 sinq4:g64 kmeans4:g64; do
        for backend in ${BACKENDS:-cuda cpu}; do
            f="$work/bench-$backend-${scheme//:/_}.json"
            limited 120 $run quantscope-cli bench --scheme "$scheme" --shape 16384x8192 --dtype bf16 \
                --backend "$backend" $([ $backend = cuda ] && echo --repeat 20 --warmup 3 || echo --repeat 5 --warmup 1) --json > "$f" 2> "$f.err"
            echo "$scheme $backend: $(tr -d '\n ' < "$f" | grep -o '"median_ms":[^,]*\|"copy_fraction":[^,}]*\|"backend":"[^"]*"' | tr '\n' ' ') $(head -c 200 "$f.err")" |
                tee -a "$OUT/summary.txt"
        done
    done
    ;;
torch)
    log "torch.compile baseline, 16384x8192 bf16"
    PYTHONUNBUFFERED=1 limited 400 python3 tests/bench/torch_compile_bench.py \
        > "$work/torch-compile.txt" 2>&1
    echo "exit $?" >> "$work/torch-compile.txt"
    grep -v '^{' "$work/torch-compile.txt" | tail -12 | tee -a "$OUT/summary.txt"
    ;;
sweep)
    log "whole-model sweep: 1B bf16, int4:g128 nf4:g64 q4_k mxfp4"
    ckpt=/tmp/qs-llama-1b-bf16.safetensors
    [ -f "$ckpt" ] || limited 200 $run qs-make-checkpoint "$ckpt" | tail -2 | tee -a "$OUT/summary.txt"
    for backend in cuda cpu; do
        for i in 1 2 3; do
            start=$(date +%s%N)
            timed=(); [ -x /usr/bin/time ] && timed=(/usr/bin/time -f '%M KiB peak' -o "$work/sweep-$backend-$i.rss")
            "${timed[@]}" timeout -k 5 200 $run quantscope-cli analyze "$ckpt" --scheme int4:g128 --scheme nf4:g64 \
                --scheme q4_k --scheme mxfp4 --backend "$backend" --json \
                > "$work/sweep-$backend-$i.json" 2> "$work/sweep-$backend-$i.err"
            rc=$?
            end=$(date +%s%N)
            echo "sweep $backend run $i: $(( (end - start) / 1000000 )) ms, exit $rc, $(cat "$work/sweep-$backend-$i.rss" 2>/dev/null | tail -1)" |
                tee -a "$OUT/summary.txt"
        done
    done
    ;;
*) log "unknown section $section" ;;
esac
done
log "done"
