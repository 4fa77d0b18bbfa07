#!/usr/bin/env bash
# The authors' original TensorFlow code at the paper's 40,000 steps, one run at a time, one thread each:
# the result files beside this script (results/original_code/*.json), made by
#   python -m pinn_tutorial.reproduction.original_code run PROBLEM --method M --seed N [--gate first] --checkout ... --out ...
#
# Start it in the background from anywhere; it appends to sweep.log beside it:
#   nohup bash results/original_code/run_sweep.sh >/dev/null 2>&1 &
# Resumable: a run whose result file exists is skipped, so running it again goes on where it stopped (a run cut
# off mid-way starts again from step 0: the original code keeps no checkpoint). Only one sweep runs at a time
# (a lock file beside it). A failed run is logged and the sweep goes on; the last line counts the failures.
#
# Settings (environment variables):
#   PINN_TUTORIAL_TF_PYTHON          a Python with TensorFlow (and numpy, scipy, matplotlib), e.g. a venv made by
#                                    python3 -m venv tfvenv && tfvenv/bin/pip install tensorflow-cpu numpy scipy matplotlib
#   PINN_TUTORIAL_ORIGINAL_CHECKOUT  your clone of PredictiveIntelligenceLab/GradientPathologiesPINNs (a folder
#                                    or a git directory; its HEAD, which has the July 2021 gate fix)
#   PYTHON                           the project's Python (default: .venv/bin/python of this repository)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo" || exit 1
tf_python="${PINN_TUTORIAL_TF_PYTHON:-/work/tfvenv/bin/python}"
checkout="${PINN_TUTORIAL_ORIGINAL_CHECKOUT:-/work/.mirror/PredictiveIntelligenceLab+GradientPathologiesPINNs/repo}"
python="${PYTHON:-$repo/.venv/bin/python}"
log="$here/sweep.log"

exec >>"$log" 2>&1
exec 9>"$here/.sweep.lock"
if ! flock -n 9; then
  echo "$(date -Is) another sweep holds $here/.sweep.lock; not started"
  exit 1
fi
export OMP_NUM_THREADS=1 PINN_TUTORIAL_THREADS=1

# The order: Helmholtz M4 and M2 over ten seeds (Table 2's 3 x 50 row), M1 and M3 over five, Klein-Gordon M2 and
# M4 over five (Table 3), then Helmholtz M4 with the first public version's gate over five.
runs=()
for s in 0 1 2 3 4 5 6 7 8 9; do runs+=("helmholtz M4 $s"); done
for s in 0 1 2 3 4 5 6 7 8 9; do runs+=("helmholtz M2 $s"); done
for s in 0 1 2 3 4; do runs+=("helmholtz M1 $s"); done
for s in 0 1 2 3 4; do runs+=("helmholtz M3 $s"); done
for s in 0 1 2 3 4; do runs+=("klein_gordon M2 $s"); done
for s in 0 1 2 3 4; do runs+=("klein_gordon M4 $s"); done
for s in 0 1 2 3 4; do runs+=("helmholtz M4 $s first"); done

echo "$(date -Is) sweep of ${#runs[@]} runs; TensorFlow Python $tf_python; original $checkout"
failed=0
for run in "${runs[@]}"; do
  read -r problem method seed gate <<<"$run"
  extra=()
  [ -n "${gate:-}" ] && extra=(--gate "$gate")
  echo "$(date -Is) start $problem $method seed $seed ${gate:+gate $gate}"
  if ! "$python" -m pinn_tutorial.reproduction.original_code run "$problem" --method "$method" --seed "$seed" "${extra[@]}" \
      --checkout "$checkout" --python "$tf_python" --out "$here"; then
    failed=$((failed + 1))
    echo "$(date -Is) FAILED $problem $method seed $seed ${gate:+gate $gate}"
  fi
done
echo "$(date -Is) sweep done: ${#runs[@]} runs, $failed failed"
