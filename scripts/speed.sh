#!/usr/bin/env bash
# Whole-process speed against zstd -19 and a peer build, run by run on the same pixels.
#
#   scripts/speed.sh [PEER_BBANS] [RUNS]
#
# Each run times `zstd -19`, then this checkout's release build (compress, then decompress of
# what it wrote), then PEER_BBANS the same way (a bbans binary of another commit, e.g. made by
# `git worktree add /tmp/peer COMMIT && (cd /tmp/peer && swift build -c release --product bbans)`),
# on the benchmark data of scripts/bench-data.py (/tmp/bbans-bench, made when missing): the
# 10,000 MNIST validation images and the 10,000 Fashion-MNIST test images. It prints wall seconds
# and the ratios to zstd's time of the same run, checks every round trip, and says when the two
# builds' archives differ. Then one thread's CPU seconds (--threads 1) of each build. Timings
# are worth reading only on an otherwise idle machine (check /proc/loadavg).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
new="$root/.build/release/bbans"
peer=${1:-}
runs=${2:-3}
data=/tmp/bbans-bench
[ -x "$new" ] || (cd "$root" && swift build -c release --product bbans)
[ -f "$data/mnist-val-idx3-ubyte" ] || python3 "$root/scripts/bench-data.py" "$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() { /usr/bin/time -f "%$1" "${@:2}" 2>&1 >/dev/null | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for name in mnist-val-idx3-ubyte fashion-mnist-test-idx3-ubyte; do
  input="$data/$name"
  for run in $(seq "$runs"); do
    z=$(seconds e zstd -19 -q -f "$input" -o "$work/z.zst")
    line="$name zstd -19 $z s"
    for build in "$new" ${peer:+"$peer"}; do
      tag=$([ "$build" = "$new" ] && echo this || echo peer)
      c=$(seconds e "$build" compress -f -q "$input" -o "$work/$tag.bba")
      d=$(seconds e "$build" decompress -f -q "$work/$tag.bba" -o "$work/$tag.out")
      cmp -s "$work/$tag.out" "$input" || { echo "$name: $tag's round trip differs" >&2; exit 1; }
      line="$line | $tag compress $c s ($(ratio "$c" "$z")), decompress $d s ($(ratio "$d" "$z"))"
    done
    [ -z "$peer" ] || cmp -s "$work/this.bba" "$work/peer.bba" || line="$line | archives differ"
    echo "$line"
  done
  for run in $(seq "$runs"); do
    line="$name one thread, CPU s:"
    for build in "$new" ${peer:+"$peer"}; do
      tag=$([ "$build" = "$new" ] && echo this || echo peer)
      c=$(seconds U "$build" compress -f -q --threads 1 "$input" -o "$work/$tag.bba")
      d=$(seconds U "$build" decompress -f -q --threads 1 "$work/$tag.bba" -o "$work/$tag.out")
      line="$line $tag compress $c, decompress $d;"
    done
    echo "$line"
  done
done
