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
# One opaque chunk each: written in the compact form (version 2.0) since it exists; their
# full-form (1.0) containers of commit a758e91 are kept in legacy/.
"$bbans" compress text.txt -o text.txt.bba -f --threads 1
"$bbans" compress random.bin -o random.bin.bba -f --threads 1
for f in *.bba; do "$bbans" info "$f"; done

# A context head with a row summary (weights file version 2, issue 16), on the 8-bit images
# (images-8bit-rows.idx is a copy of images-8bit.idx, so that the container's name gives its
# original): added with the bbans of the commit that brought the row summary; the files above
# were not re-made then.
cp images-8bit.idx images-8bit-rows.idx
"$bbans" train images-8bit.idx -o model-rows.bbm -f --name golden-rows --likelihood logistic-mixture --components 2 \
  --context --context-features 2 --context-hidden 8 --context-neighbours 12 --rows 3,2 --context-deeper 6 \
  --hidden 16 --latents 4 --bucket-bits 8 --epochs 200 --batch-size 32 --learning-rate 1e-2 --seed 1 --threads 1
"$bbans" compress images-8bit-rows.idx -o images-8bit-rows.idx.bba -f --model model-rows.bbm --chunk 64 --lanes 4 --threads 1
