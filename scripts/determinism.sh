#!/usr/bin/env bash
# Determinism across builds: builds bbans three ways (debug; release; release for this CPU with
# -target-cpu native, which lets the compiler use every vector instruction it has), each in its
# own scratch folder, and checks with each build, and with each version of the dense kernel
# this CPU runs (BBANS_DENSE_LEVEL 0 portable, 1 AVX2, 2 AVX-512F), that every golden file of
# testdata/golden decodes bit-exactly to its original and that the original re-encodes to the
# identical bytes, and that those of testdata/golden/retired (archives of the retired built-in
# models) decode bit-exactly.
# The golden files were made by testdata/golden/make.sh; the options below are the ones it used.
#
#   scripts/determinism.sh            (exit status 0 when every build agrees with the files)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
golden="$root/testdata/golden"
cd "$root"

builds=(
  "debug|.build-det-debug|-c debug"
  "release|.build-det-release|-c release"
  "native|.build-det-native|-c release -Xswiftc -target-cpu -Xswiftc native"
)
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for entry in "${builds[@]}"; do
  IFS='|' read -r name scratch flags <<< "$entry"
  echo "== $name: swift build $flags --scratch-path $scratch"
  # shellcheck disable=SC2086
  swift build $flags --scratch-path "$scratch" --product bbans
  # shellcheck disable=SC2086
  bbans="$(swift build $flags --scratch-path "$scratch" --show-bin-path)/bbans"
  for level in 0 1 2; do
    export BBANS_DENSE_LEVEL=$level
    echo "   dense kernel level $level"
    for container in "$golden"/*.bba; do
      original="${container%.bba}"
      base=$(basename "$original")
      case "$base" in
        images-8bit.idx) model=(--model "$golden/model-8bit.bbm") ;;
        images-binary.idx) model=(--model "$golden/model-binary.bbm") ;;
        images-8bit-rows.idx) model=(--model "$golden/model-rows.bbm") ;;
        images-8bit-int16.idx) model=(--model "$golden/model-int16.bbm") ;;
        images-8bit-householder.idx) model=(--model "$golden/model-householder.bbm") ;;
        images-binary-iaf.idx) model=(--model "$golden/model-iaf.bbm") ;;
        images-8bit-sylvester.idx) model=(--model "$golden/model-sylvester.bbm") ;;
        fashion-mnist-20-binary-plain.idx) model=(--model mnist-binary-plain) ;;
        digits-20-mnist.idx) model=(--model mnist) ;;
        digits-20-mnist-plain.idx) model=(--model mnist-plain) ;;
        fashion-mnist-20-plain.idx) model=(--model fashion-mnist-plain) ;;
        *) model=() ;;
      esac
      decoded="$work/$name-$level-$base"
      encoded="$work/$name-$level-$base.bba"
      if "$bbans" decompress "$container" -o "$decoded" "${model[@]}" --threads 2 \
        && cmp -s "$decoded" "$original"; then
        echo "     $base.bba decodes bit-exactly"
      else
        echo "     FAIL: $base.bba does not decode to $base with the $name build at level $level"; failures=$((failures + 1))
      fi
      if "$bbans" compress "$original" -o "$encoded" "${model[@]}" --chunk 64 --lanes 4 --threads 1 \
        && cmp -s "$encoded" "$container"; then
        echo "     $base re-encodes to the same bytes"
      else
        echo "     FAIL: $base does not re-encode to $base.bba with the $name build at level $level"; failures=$((failures + 1))
      fi
    done
    # The archives of the retired models decode (by the hash they record); they are not
    # re-encoded: the names they record are no longer those of their models.
    for container in "$golden"/retired/*.bba; do
      original="${container%.bba}"
      base=$(basename "$original")
      decoded="$work/$name-$level-retired-$base"
      if "$bbans" decompress "$container" -o "$decoded" --threads 2 && cmp -s "$decoded" "$original"; then
        echo "     retired/$base.bba decodes bit-exactly"
      else
        echo "     FAIL: retired/$base.bba does not decode to $base with the $name build at level $level"; failures=$((failures + 1))
      fi
    done
  done
  unset BBANS_DENSE_LEVEL
done

if [ "$failures" -ne 0 ]; then
  echo "determinism: $failures failures"
  exit 1
fi
echo "determinism: all builds agree with the golden files"
