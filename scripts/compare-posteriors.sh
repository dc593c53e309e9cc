#!/usr/bin/env bash
# The posterior comparison of docs/MODELS.md ("Flow posteriors"): the factorized models of
# train-models.sh (mnist-binary-plain, mnist-plain, fashion-mnist-plain, validated on the last
# 10,000 training images) trained from scratch with each posterior, two runs at a time on one
# thread each; then each model's IWAE bound (k = 100, last 1,000 images). Runs whose weights
# exist already are skipped, so the script goes on where it stopped.
#
#   scripts/compare-posteriors.sh [OUT_FOLDER]      (default: ./posteriors; needs bbans built in release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-posteriors}
B=${BBANS:-"$root/.build/release/bbans"}
M="$root/../shared/data/mnist/train-images-idx3-ubyte.gz"
F=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -x "$B" ] || { echo "compare-posteriors.sh: $B is missing: run 'swift build -c release' first" >&2; exit 2; }
[ -f "$M" ] || { echo "compare-posteriors.sh: MNIST's training images are needed at $M" >&2; exit 2; }
[ -f "$F" ] || { echo "compare-posteriors.sh: Fashion-MNIST is needed: apt-get install -y dataset-fashion-mnist" >&2; exit 2; }
mkdir -p "$out"
COMMON="--hidden 500,500 --latents 50 --threads 1 --validation 10000 --validate-every 2"
declare -A DATA=([binary]="$M" [mnist]="$M" [fashion]="$F")
declare -A FLAGS=(
  [binary]="--likelihood bernoulli --epochs 12 --weight-decay 0.01"
  [mnist]="--likelihood beta-binomial --epochs 12 --weight-decay 0.05"
  [fashion]="--likelihood beta-binomial --epochs 10 --weight-decay 0.05")
POSTERIORS="diagonal householder:4 iaf:4 sylvester:4"

run() {  # data posterior
  local name="$1-${2%%:*}"
  [ -f "$out/$name.bbm" ] && return 0
  # shellcheck disable=SC2086
  "$B" train "${DATA[$1]}" ${FLAGS[$1]} $COMMON --posterior "$2" -o "$out/$name.bbm.part" --name "$name" -f \
    > "$out/$name.log" 2>&1 && mv "$out/$name.bbm.part" "$out/$name.bbm"
}

for data in binary mnist fashion; do
  set -- $POSTERIORS
  while [ $# -gt 0 ]; do
    run "$data" "$1" & first=$!
    if [ $# -gt 1 ]; then run "$data" "$2" & second=$!; wait "$second"; fi
    wait "$first"
    shift $(( $# > 1 ? 2 : 1 ))
  done
done
for data in binary mnist fashion; do
  for posterior in $POSTERIORS; do
    name="$data-${posterior%%:*}"
    [ -f "$out/$name.iwae" ] || "$B" evaluate "$out/$name.bbm" "${DATA[$data]}" --last 1000 --samples 100 --threads 2 > "$out/$name.iwae"
  done
done
grep -H "best validation" "$out"/*.log
grep -H "IWAE bound" "$out"/*.iwae
