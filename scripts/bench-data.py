#!/usr/bin/env python3
"""Writes the data sets of the README's results table into a folder (default /tmp/bbans-bench).

- mnist-val-idx3-ubyte: the last 10,000 images of the MNIST training split (the validation
  images: the built-in models never trained on them).
- mnist-val-binarized-idx3-ubyte: the same images stochastically binarized once, pixel = 1
  with probability v/255 (Python's random.Random(0)), stored as 0/1.
- fashion-mnist-test-idx3-ubyte: the Fashion-MNIST test split (Debian's dataset-fashion-mnist).

Standard library only. Usage: scripts/bench-data.py [FOLDER] [MNIST_TRAIN_IMAGES_GZ]
"""
import gzip
import os
import random
import sys

folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/bbans-bench"
mnist = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "mnist", "train-images-idx3-ubyte.gz")
fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
os.makedirs(folder, exist_ok=True)


def idx(pixels, count):
    return bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (count, 28, 28)) + bytes(pixels)


raw = gzip.open(mnist).read()
assert raw[:4] == bytes([0, 0, 8, 3]) and len(raw) == 16 + 60000 * 784, "not MNIST's training images"
val = raw[16 + 50000 * 784:]
with open(os.path.join(folder, "mnist-val-idx3-ubyte"), "wb") as f:
    f.write(idx(val, 10000))
rng = random.Random(0)
binary = bytes(1 if rng.random() * 255 < v else 0 for v in val)
with open(os.path.join(folder, "mnist-val-binarized-idx3-ubyte"), "wb") as f:
    f.write(idx(binary, 10000))
if os.path.exists(fashion):
    with open(os.path.join(folder, "fashion-mnist-test-idx3-ubyte"), "wb") as f:
        f.write(gzip.open(fashion).read())
else:
    print(f"{fashion} is missing: apt-get install -y dataset-fashion-mnist", file=sys.stderr)
print("wrote", ", ".join(sorted(os.listdir(folder))), "in", folder)
