#!/usr/bin/env bash
# Makes the golden files of this folder from nothing but a seeded generator and bbans itself
# (testdata/README.md says what each file is). Run it only to replace them on purpose, e.g. for
# a new format version: the golden test expects the files to stay as they are.
#
#   testdata/golden/make.sh [BBANS]     (BBANS: the bbans binary, default .build/release/bbans)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bbans=$(cd "$(dirname "${1:-.build/release/bbans}")" && pwd)/$(basename "${1:-.build/release/bbans}")
cd "$here"

# The data: 4×4 images of a blob of ink on a dark background with noise (8-bit), the same
# thresholded to 0/255 (binary), a text, and random bytes; all from seeded generators.
python3 - <<'PY'
import random, struct
rng = random.Random(2024)
def blobs(count, binary):
    pixels = bytearray()
    for _ in range(count):
        cy, cx = rng.uniform(0.5, 2.5), rng.uniform(0.5, 2.5)
        for y in range(4):
            for x in range(4):
                d = (y - cy) ** 2 + (x - cx) ** 2
                v = max(0.0, min(255.0, 255 - 60 * d + rng.uniform(-20, 20)))
                pixels.append((255 if v > 128 else 0) if binary else int(v))
    return bytes([0, 0, 8, 3]) + struct.pack(">III", count, 4, 4) + bytes(pixels)
open("images-8bit.idx", "wb").write(blobs(256, False))
open("images-binary.idx", "wb").write(blobs(256, True))
words = ["bits", "back", "coding", "with", "asymmetric", "numeral", "systems", "latent", "prior",
         "posterior", "likelihood", "message", "chunk", "lane", "bucket"]
text = " ".join(rng.choice(words) for _ in range(600)) + "\n"
open("text.txt", "w").write(text)
open("random.bin", "wb").write(bytes(rng.randrange(256) for _ in range(100)))
PY

# The models: trained for a few hundred short epochs on the images themselves, on one thread.
"$bbans" train images-8bit.idx -o model-8bit.bbm -f --name golden-8bit --likelihood beta-binomial \
  --hidden 16 --latents 4 --bucket-bits 8 --epochs 300 --batch-size 32 --learning-rate 1e-2 --seed 1 --threads 1
"$bbans" train images-binary.idx -o model-binary.bbm -f --name golden-binary --likelihood bernoulli \
  --hidden 16 --latents 4 --bucket-bits 8 --epochs 300 --batch-size 32 --learning-rate 1e-2 --seed 1 --threads 1

# The compressed files: 4 chunks of 64 images, 4 lanes each; the text and random bytes need no model.
"$bbans" compress images-8bit.idx -o images-8bit.idx.bba -f --model model-8bit.bbm --chunk 64 --lanes 4 --threads 1
"$bbans" compress images-binary.idx -o images-binary.idx.bba -f --model model-binary.bbm --chunk 64 --lanes 4 --threads 1
# The built-in models on 20 Fashion-MNIST test images (from ../fashion-mnist-100-idx3-ubyte): the
# first 20, 8-bit; and the 20 of the 100 with the least ink once thresholded at 128 to 0/1, in
# file order (thin shapes, which mnist-binary codes better than zstd). The models are chosen from
# the data (fashion-mnist, mnist-binary).
python3 - <<'PY'
d = open("../fashion-mnist-100-idx3-ubyte", "rb").read()
header = bytes([0, 0, 8, 3]) + (20).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
images = [d[16 + i * 784:16 + (i + 1) * 784] for i in range(100)]
binary = [bytes(1 if v >= 128 else 0 for v in image) for image in images]
thin = sorted(sorted(range(100), key=lambda i: (sum(binary[i]), i))[:20])
open("fashion-mnist-20.idx", "wb").write(header + b"".join(images[:20]))
open("fashion-mnist-20-binary.idx", "wb").write(header + b"".join(binary[i] for i in thin))
PY
for f in fashion-mnist-20.idx fashion-mnist-20-binary.idx; do
  "$bbans" compress "$f" -o "$f.bba" -f --chunk 64 --lanes 4 --threads 1
done
# The built-in model with an IAF posterior (issue 17), by name, on a copy of the binary images.
cp fashion-mnist-20-binary.idx fashion-mnist-20-binary-plain.idx
"$bbans" compress fashion-mnist-20-binary-plain.idx -o fashion-mnist-20-binary-plain.idx.bba -f --model mnist-binary-plain \
  --chunk 64 --lanes 4 --threads 1
# The current built-in models that no file above names (mnist, mnist-plain, fashion-mnist-plain),
# by name: mnist and mnist-plain on copies of the generated digits of retired/ (no MNIST image
# is checked in), fashion-mnist-plain on a copy of the 8-bit Fashion-MNIST images.
cp retired/digits-20.idx digits-20-mnist.idx
cp retired/digits-20.idx digits-20-mnist-plain.idx
cp fashion-mnist-20.idx fashion-mnist-20-plain.idx
for p in digits-20-mnist.idx:mnist digits-20-mnist-plain.idx:mnist-plain fashion-mnist-20-plain.idx:fashion-mnist-plain; do
  "$bbans" compress "${p%%:*}" -o "${p%%:*}.bba" -f --model "${p##*:}" --chunk 64 --lanes 4 --threads 1
done
# Flow posteriors (issue 17; weights file version 3), each on a copy of its images: Householder
# on the 8-bit images, IAF on the binary ones, Sylvester with a context head on the 8-bit ones.
cp images-8bit.idx images-8bit-householder.idx; cp images-binary.idx images-binary-iaf.idx; cp images-8bit.idx images-8bit-sylvester.idx
FLOW="--hidden 16 --latents 4 --bucket-bits 8 --epochs 300 --batch-size 32 --learning-rate 1e-2 --seed 1 --threads 1"
"$bbans" train images-8bit-householder.idx -o model-householder.bbm -f --name golden-householder --likelihood beta-binomial \
  --posterior householder:2 $FLOW
"$bbans" train images-binary-iaf.idx -o model-iaf.bbm -f --name golden-iaf --likelihood bernoulli --posterior iaf:2,8,2 $FLOW
"$bbans" train images-8bit-sylvester.idx -o model-sylvester.bbm -f --name golden-sylvester --likelihood logistic-mixture \
  --components 2 --context --context-features 2 --context-hidden 8 --posterior sylvester:2 $FLOW
for p in 8bit-householder:householder binary-iaf:iaf 8bit-sylvester:sylvester; do
  "$bbans" compress "images-${p%%:*}.idx" -o "images-${p%%:*}.idx.bba" -f --model "model-${p##*:}.bbm" --chunk 64 --lanes 4 --threads 1
done
# One opaque chunk each: written in the compact form (version 2.0) since it exists; their
# full-form (1.0) containers of commit a758e91 are kept in legacy/.
"$bbans" compress text.txt -o text.txt.bba -f --threads 1
"$bbans" compress random.bin -o random.bin.bba -f --threads 1
for f in *.bba; do "$bbans" info "$f"; done

# Archives of the retired built-in models (retired/; RetiredModelTests): made on branch retired
# (from commit 07a9261), when mnist, mnist-binary and fashion-mnist were the models now built in as mnist-v1,
# mnist-binary-v1 and fashion-mnist-v1, so that they record the names and hashes that the
# archives of that time record. Made only while that is so: once those models are retrained,
# these files stay as they are (re-made with --model mnist-v1 they would record another name).
current_hash() { "$bbans" models --all | awk -v name="$1" '$1 == name { for (i = 2; i <= NF; i++) if ($i ~ /^0x/) print $i }'; }
if [[ "$(current_hash mnist)" == "$(current_hash mnist-v1)" && "$(current_hash mnist-binary)" == "$(current_hash mnist-binary-v1)" \
  && "$(current_hash fashion-mnist)" == "$(current_hash fashion-mnist-v1)" ]]; then
  mkdir -p retired
  # 20 synthetic digit-like images (no MNIST data): the strokes of each digit 0…9 (twice), with a
  # random slant, size, offset, pen width and jitter (random.Random(2026)), anti-aliased; and
  # the same thresholded at 128 to 0/1. Then Fashion-MNIST test images 20…39 of the fixture.
  python3 - <<'PY'
import math, random
rng = random.Random(2026)
def arc(cx, cy, rx, ry, a0, a1, n=24):
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]
# Strokes of each digit in a unit box (x right, y down), as polylines.
digits = {
    0: [arc(0.5, 0.5, 0.32, 0.45, 0, 360, 40)],
    1: [[(0.35, 0.2), (0.55, 0.05), (0.55, 0.95)]],
    2: [arc(0.5, 0.3, 0.3, 0.25, 200, 380) + [(0.2, 0.95), (0.85, 0.95)]],
    3: [arc(0.5, 0.28, 0.28, 0.23, 210, 450), arc(0.5, 0.72, 0.3, 0.23, 270, 510)],
    4: [[(0.65, 0.95), (0.65, 0.05), (0.15, 0.7), (0.85, 0.7)]],
    5: [[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)] + arc(0.5, 0.68, 0.3, 0.27, 240, 500)],
    6: [[(0.7, 0.05), (0.35, 0.4)] + arc(0.5, 0.7, 0.28, 0.25, 200, 560)],
    7: [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
    8: [arc(0.5, 0.27, 0.25, 0.22, 0, 360, 32), arc(0.5, 0.72, 0.3, 0.23, 0, 360, 32)],
    9: [arc(0.5, 0.3, 0.28, 0.25, 0, 360, 32) + [(0.78, 0.3), (0.65, 0.95)]],
}
def render(digit):
    slant = rng.uniform(-0.25, 0.25)
    sx, sy = rng.uniform(9, 13), rng.uniform(18, 20)
    ox, oy = 14 + rng.uniform(-1.5, 1.5), 14 + rng.uniform(-1, 1)
    pen = rng.uniform(1.0, 1.6)
    segments = []
    for stroke in digits[digit]:
        pts = [(ox + (x - 0.5) * sx * 1.6 + slant * (0.5 - y) * sy, oy + (y - 0.5) * sy) for x, y in stroke]
        pts = [(x + rng.uniform(-0.3, 0.3), y + rng.uniform(-0.3, 0.3)) for x, y in pts]
        segments += list(zip(pts, pts[1:]))
    image = bytearray()
    for py in range(28):
        for px in range(28):
            d = min(distance(px + 0.5, py + 0.5, a, b) for a, b in segments)
            image.append(int(round(255 * max(0.0, min(1.0, pen + 0.5 - d)))))
    return bytes(image)
def distance(x, y, a, b):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - ax - t * dx, y - ay - t * dy)
count = 20
images = [render(i % 10) for i in range(count)]
header = bytes([0, 0, 8, 3]) + count.to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
open("retired/digits-20.idx", "wb").write(header + b"".join(images))
open("retired/digits-20-binary.idx", "wb").write(header + b"".join(bytes(1 if v >= 128 else 0 for v in im) for im in images))
d = open("../fashion-mnist-100-idx3-ubyte", "rb").read()
open("retired/fashion-mnist-20to39.idx", "wb").write(header + d[16 + 20 * 784:16 + 40 * 784])
PY
  "$bbans" compress retired/digits-20.idx -o retired/digits-20.idx.bba -f --model mnist --chunk 64 --lanes 4 --threads 1
  "$bbans" compress retired/digits-20-binary.idx -o retired/digits-20-binary.idx.bba -f --model mnist-binary --chunk 64 --lanes 4 --threads 1
  "$bbans" compress retired/fashion-mnist-20to39.idx -o retired/fashion-mnist-20to39.idx.bba -f --model fashion-mnist --chunk 64 --lanes 4 --threads 1
  for f in retired/*.bba; do "$bbans" info "$f"; done
else
  echo "make.sh: retired/ kept as it is (mnist, mnist-binary, fashion-mnist are no longer the v1 models)"
fi

# Archives of the Float models that the int16 ones replaced (issue 18: mnist-v2, mnist-binary-v2,
# fashion-mnist-v2 and the three plain models' -v1), made with the bbans of commit bc96b87, the
# last build in which they were current: the two files above that the row-summary models made
# (moved to retired/ as fashion-mnist-20-v2 and fashion-mnist-20-binary-v2, with copies of their
# originals), and copies of the retired data coded with mnist and the plain models. Re-made only
# by that build (BBANS_V2, its binary), since every later one's mnist is the int16 model.
if [[ -n "${BBANS_V2:-}" ]]; then
  cp retired/digits-20.idx retired/digits-20-v2.idx
  cp retired/digits-20.idx retired/digits-20-plain.idx
  cp retired/digits-20-binary.idx retired/digits-20-binary-plain.idx
  cp retired/fashion-mnist-20to39.idx retired/fashion-mnist-20to39-plain.idx
  cp fashion-mnist-20.idx retired/fashion-mnist-20-v2.idx
  cp fashion-mnist-20-binary.idx retired/fashion-mnist-20-binary-v2.idx
  for p in digits-20-v2.idx:mnist digits-20-plain.idx:mnist-plain digits-20-binary-plain.idx:mnist-binary-plain \
           fashion-mnist-20to39-plain.idx:fashion-mnist-plain fashion-mnist-20-v2.idx:fashion-mnist \
           fashion-mnist-20-binary-v2.idx:mnist-binary; do
    "$BBANS_V2" compress "retired/${p%%:*}" -o "retired/${p%%:*}.bba" -f --model "${p##*:}" --chunk 64 --lanes 4 --threads 1
  done
fi

# The int16 mnist-binary-plain that the model with an IAF posterior replaced (issue 17, now
# mnist-binary-plain-v2), on a copy of the retired binary digits: made by the build of commit
# cb90f1f, the last in which it was current (BBANS_PLAIN_V2, its binary).
if [[ -n "${BBANS_PLAIN_V2:-}" ]]; then
  cp retired/digits-20-binary.idx retired/digits-20-binary-plain-v2.idx
  "$BBANS_PLAIN_V2" compress retired/digits-20-binary-plain-v2.idx -o retired/digits-20-binary-plain-v2.idx.bba -f \
    --model mnist-binary-plain --chunk 64 --lanes 4 --threads 1
fi

# The int16 fashion-mnist that the model trained 10 epochs further replaced (issue 16, now
# fashion-mnist-v3), on a copy of fashion-mnist-20.idx: the top-level container of that time, as
# the build of commit 589183d, the last in which it was current, makes it (BBANS_FASHION_V3).
if [[ -n "${BBANS_FASHION_V3:-}" ]]; then
  cp fashion-mnist-20.idx retired/fashion-mnist-20-v3.idx
  "$BBANS_FASHION_V3" compress retired/fashion-mnist-20-v3.idx -o retired/fashion-mnist-20-v3.idx.bba -f \
    --chunk 64 --lanes 4 --threads 1
fi

# The int16 fashion-mnist that the model with a deeper per-pixel network replaced (issue 16, now
# fashion-mnist-v4), on a copy of fashion-mnist-20.idx: the top-level container of that time, as
# the build of commit 5d7148c, the last in which it was current, makes it (BBANS_FASHION_V4).
if [[ -n "${BBANS_FASHION_V4:-}" ]]; then
  cp fashion-mnist-20.idx retired/fashion-mnist-20-v4.idx
  "$BBANS_FASHION_V4" compress retired/fashion-mnist-20-v4.idx -o retired/fashion-mnist-20-v4.idx.bba -f \
    --chunk 64 --lanes 4 --threads 1
fi

# The int16 mnist that the model with a deeper per-pixel network replaced (issue 16, now
# mnist-v3), on a copy of the generated digits: the top-level digits-20-mnist container of that
# time, as the build of commit 00f2618, the last in which it was current, makes it (BBANS_MNIST_V3).
if [[ -n "${BBANS_MNIST_V3:-}" ]]; then
  cp retired/digits-20.idx retired/digits-20-v3.idx
  "$BBANS_MNIST_V3" compress retired/digits-20-v3.idx -o retired/digits-20-v3.idx.bba -f --model mnist \
    --chunk 64 --lanes 4 --threads 1
fi

# A context head with a row summary (weights file version 2, issue 16), on the 8-bit images
# (images-8bit-rows.idx is a copy of images-8bit.idx, so that the container's name gives its
# original): added with the bbans of the commit that brought the row summary; the files above
# were not re-made then.
cp images-8bit.idx images-8bit-rows.idx
"$bbans" train images-8bit.idx -o model-rows.bbm -f --name golden-rows --likelihood logistic-mixture --components 2 \
  --context --context-features 2 --context-hidden 8 --context-neighbours 12 --rows 3,2 --context-deeper 6 \
  --hidden 16 --latents 4 --bucket-bits 8 --epochs 200 --batch-size 32 --learning-rate 1e-2 --seed 1 --threads 1
"$bbans" compress images-8bit-rows.idx -o images-8bit-rows.idx.bba -f --model model-rows.bbm --chunk 64 --lanes 4 --threads 1

# int16 arithmetic (weights file version 4, issue 18): model-rows.bbm's weights with the encoder
# and decoder computed by the integer product, on another copy of the 8-bit images; added with
# the bbans of the commit that brought it.
cp images-8bit.idx images-8bit-int16.idx
"$bbans" convert model-rows.bbm -o model-int16.bbm -f --arithmetic int16 --name golden-int16 --validation-data images-8bit.idx
"$bbans" compress images-8bit-int16.idx -o images-8bit-int16.idx.bba -f --model model-int16.bbm --chunk 64 --lanes 4 --threads 1
