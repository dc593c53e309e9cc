#!/usr/bin/env python3
"""Writes the data sets of the README's results table into a folder (default /tmp/bbans-bench).

- mnist-val-idx3-ubyte: the last 10,000 images of the MNIST training split (the validation
  images: the built-in models never trained on them).
- mnist-val-binarized-idx3-ubyte: the same images stochastically binarized once, pixel = 1
  with probability v/255 (Python's random.Random(0)), stored as 0/1.
- fashion-mnist-test-idx3-ubyte: the Fashion-MNIST test split (Debian's dataset-fashion-mnist).

Standard library only. Usage: scripts/bench-data.py [FOLDER] [MNIST_TRAIN_IMAGES_GZ]

MNIST's training images are looked for in ../shared/data/mnist/ beside the repository unless
the second argument names them; Fashion-MNIST in /usr/share/datasets/fashion-mnist/. When
either is missing, one line on stderr says what is needed, nothing is written, and the exit
status is 2.
"""
import gzip
import os
import random
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/bbans-bench"
mnist = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(root), "shared", "data", "mnist", "train-images-idx3-ubyte.gz")
fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def fail(message):
    print(f"bench-data.py: {message}", file=sys.stderr)
    sys.exit(2)


if len(sys.argv) > 3:
    fail("usage: scripts/bench-data.py [FOLDER] [MNIST_TRAIN_IMAGES_GZ]")
if not os.path.isfile(mnist):
    fail(f"MNIST's training images are needed: {mnist} is missing (pass the path of train-images-idx3-ubyte.gz as the second argument)")
if not os.path.isfile(fashion):
    fail(f"Fashion-MNIST's test images are needed: {fashion} is missing (apt-get install -y dataset-fashion-mnist)")


def read_gzip(path):
    try:
        with gzip.open(path) as f:
            return f.read()
    except (OSError, EOFError) as error:
        fail(f"cannot read {path}: {error}")


def idx(pixels, count):
    return bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (count, 28, 28)) + bytes(pixels)


raw = read_gzip(mnist)
if raw[:4] != bytes([0, 0, 8, 3]) or len(raw) != 16 + 60000 * 784:
    fail(f"{mnist} does not hold MNIST's 60,000 training images (IDX, 28×28, uint8)")
test = read_gzip(fashion)
try:
    os.makedirs(folder, exist_ok=True)
except OSError as error:
    fail(f"cannot make the folder {folder}: {error}")
val = raw[16 + 50000 * 784:]
with open(os.path.join(folder, "mnist-val-idx3-ubyte"), "wb") as f:
    f.write(idx(val, 10000))
rng = random.Random(0)
binary = bytes(1 if rng.random() * 255 < v else 0 for v in val)
with open(os.path.join(folder, "mnist-val-binarized-idx3-ubyte"), "wb") as f:
    f.write(idx(binary, 10000))
with open(os.path.join(folder, "fashion-mnist-test-idx3-ubyte"), "wb") as f:
    f.write(test)
print("wrote", ", ".join(sorted(os.listdir(folder))), "in", folder)
