#!/usr/bin/env bash
# Nsight Compute profile of the fused analysis kernels on the lent GPU (see gpu_run.sh for the
# bundle): for each scheme, pass 0 and pass 1 of `bench --backend cuda` on a 16384x8192 bf16
# tensor, the speed-of-light, pipe, instruction, occupancy and stall sections as text, and the
# per-instruction SASS counts as CSV. Results in $OUT/profile-*.txt|csv.
#   run(carry=["gpu-carry"], command="bash tests/bench/gpu_profile.sh int4:g128 nf4:g64 mxfp4")
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -d gpu-bundle ] || tar -xzf gpu-carry/bundle.tgz || exit 1
OUT="${OUT:-/tmp/gpu-out}"
mkdir -p "$OUT"
ncu=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
[ -n "$ncu" ] || { echo "no ncu" >&2; exit 1; }
for scheme in "$@"; do
    name=${scheme//:/_}
    LD_LIBRARY_PATH="$PWD/gpu-bundle/lib" timeout 240 "$ncu" --kernel-name regex:'groupKernel|kquant' \
        --launch-skip ${SKIP:-2} --launch-count 2 --set full --import-source no -f -o "/tmp/prof-$name" \
        gpu-bundle/quantscope-cli bench --scheme "$scheme" --shape 16384x8192 --dtype bf16 \
        --backend cuda --repeat 2 --warmup 1 > "$OUT/profile-$name.log" 2>&1
    "$ncu" --import "/tmp/prof-$name.ncu-rep" --page details \
        --section SpeedOfLight --section ComputeWorkloadAnalysis --section InstructionStats \
        --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis \
        > "$OUT/profile-$name.txt" 2>&1
    "$ncu" --import "/tmp/prof-$name.ncu-rep" --page source --print-source sass --csv \
        > "$OUT/profile-$name-sass.csv" 2>&1
    grep -E 'groupKernel|Duration|Throughput|Executed Ipc|Issue Slots|Achieved Occupancy|Registers' \
        "$OUT/profile-$name.txt" | head -40
done
