#!/usr/bin/env bash
# Builds one fuzz target of Fuzz/ with libFuzzer and runs it for SECONDS seconds.
#
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   TARGET: FuzzContainer FuzzChunks FuzzIDX FuzzNPY FuzzPGM FuzzWeights FuzzWeightValues FuzzRoundTrip
#
# The corpus grows in fuzz-TARGET/corpus (seeded from testdata/ and small generated files),
# crashes, leaks, timeouts and out-of-memory inputs land in fuzz-TARGET/artifacts/, and the
# run's log in fuzz-TARGET/log.txt (both folders are ignored by git). Exits non-zero when
# libFuzzer found something. On a shared machine, run it under `nice -n 19` (the timeout for
# one input is 60 s of wall time: a starved process at nice 19 gave false 10 s timeouts).
set -euo pipefail

target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/fuzz-$target"
mkdir -p "$work/corpus" "$work/artifacts" "$work/seeds"

# Build: the fuzz package has its own scratch folder, so it never touches the main .build.
(cd "$root/Fuzz" && swift build -c debug --sanitize=fuzzer --scratch-path .build-fuzz --product "$target")
binary="$root/Fuzz/.build-fuzz/debug/$target"

# Seeds: every file of testdata/ (golden files included), and small files of each format.
find "$root/testdata" -type f ! -name '*.md' ! -name '*.sh' -exec cp {} "$work/seeds/" \;
python3 - "$work/seeds" <<'PY'
import gzip, os, random, struct, sys
out = sys.argv[1]
rng = random.Random(7)
def put(name, data):
    with open(os.path.join(out, name), "wb") as f: f.write(data)
    with open(os.path.join(out, name + ".gz"), "wb") as f: f.write(gzip.compress(data, 6, mtime=0))
pixels = bytes(rng.randrange(256) for _ in range(3 * 4 * 4))
put("seed.idx", bytes([0, 0, 8, 3]) + struct.pack(">III", 3, 4, 4) + pixels)
put("seed1d.idx", bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + pixels[:5])
header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4, 4), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
put("seed.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + pixels)
put("seed.pgm", b"P5\n# seed\n4 4\n255\n" + pixels[:16] + b"P5 4 4 255\n" + pixels[16:32])
put("seed-binary.idx", bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 4, 4) + bytes(rng.randrange(2) for _ in range(32)))
PY
# GNU gzip's own streams (the encoder FuzzRoundTrip checks most), at every level, with and
# without a stored name, of 4 × 4 images the golden models take.
if command -v gzip >/dev/null; then
  for level in 1 2 3 4 5 6 7 8 9; do
    gzip -$level -n -c "$root/testdata/golden/images-8bit.idx" > "$work/seeds/gnu$level-8bit.idx.gz"
    gzip -$level -c "$work/seeds/seed.idx" > "$work/seeds/gnu$level-name.idx.gz"
  done
fi
# FuzzChunks reads its input as container fields (see Fuzz/Sources/FuzzChunks): seeds that take
# each bits-back chunk of the golden containers, with its real record, through the decoder.
if [ "$target" = FuzzChunks ]; then
  python3 - "$root/testdata/golden" "$work/seeds" <<'PY'
import os, struct, sys
golden, out = sys.argv[1], sys.argv[2]
for model, name in [(0, "images-8bit.idx.bba"), (1, "images-binary.idx.bba")]:
    data = open(os.path.join(golden, name), "rb").read()
    offset = struct.unpack_from("<I", data, 12)[0]
    n = 0
    while data[offset:offset + 4] == b"CHNK":
        method, _, lanes, items, raw, size, _, raw_checksum = struct.unpack_from("<BBHIQQQQ", data, offset + 8)
        payload = data[offset + 64:offset + 64 + size]
        seed = bytes([7, model, 1]) + struct.pack("<IIQ", items, raw + 16, 0)
        seed += bytes([method]) + struct.pack("<HBIQH", items, lanes, raw, raw_checksum, len(payload)) + payload
        open(os.path.join(out, "chunks-%s-%d" % (name, n)), "wb").write(seed)
        offset += 64 + size
        n += 1
PY
fi

cd "$work"
echo "fuzzing $target for $seconds s; log in $work/log.txt"
status=0
SWIFT_BACKTRACE=enable=no "$binary" corpus seeds \
  -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -max_len=16384 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@" > log.txt 2>&1 || status=$?
grep -E '^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb' log.txt || true
ls "$work/artifacts"
exit $status
