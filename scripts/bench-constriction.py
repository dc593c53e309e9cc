#!/usr/bin/env python3
"""constriction on the workload of Benchmarks' "Gaussian256 (24-bit)" benchmarks: symbols/s.

10,000,000 symbols i.i.d. from a fixed 256-symbol distribution: the pmf of a Gaussian (mean
127.5, standard deviation 20) integrated over each symbol's unit interval [i, i + 1), plus 1e-6,
normalized. constriction's AnsCoder (64-bit state, 32-bit words) with its Categorical model at
its default 24-bit precision: one vectorized encode_reverse, one decode call, the same shape of
coder as bbans' ANSMessage. Run it beside the Swift benchmark, alternating, since the machine is
shared:

    pip install constriction numpy
    python3 scripts/bench-constriction.py [--repeat 5]
    cd Benchmarks && swift package benchmark --target CoderBenchmarks --filter 'Gaussian256.*'
"""

import argparse
import importlib.metadata
import math
import time

import constriction
import numpy as np

SYMBOL_COUNT = 10_000_000


def probabilities():
    """The pmf over 0...255 (the Swift benchmark builds the same weights)."""
    def cdf(x):
        return 0.5 * math.erfc(-(x - 127.5) / (20 * math.sqrt(2)))
    weights = np.array([cdf(i + 1) - cdf(i) + 1e-6 for i in range(256)], dtype=np.float64)
    return weights / weights.sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (best is reported)")
    args = parser.parse_args()

    pmf = probabilities()
    rng = np.random.default_rng(1)
    symbols = rng.choice(256, size=SYMBOL_COUNT, p=pmf).astype(np.int32)
    model = constriction.stream.model.Categorical(pmf, perfect=False)

    encode_times, decode_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        encoder = constriction.stream.stack.AnsCoder()
        encoder.encode_reverse(symbols, model)
        compressed = encoder.get_compressed()
        encode_times.append(time.perf_counter() - start)

        start = time.perf_counter()
        decoder = constriction.stream.stack.AnsCoder(compressed)
        decoded = decoder.decode(model, SYMBOL_COUNT)
        decode_times.append(time.perf_counter() - start)
        if not np.array_equal(decoded, symbols):
            raise SystemExit("constriction: the decoded symbols differ from the encoded ones")

    bits = 32 * len(compressed)
    print(f"constriction {importlib.metadata.version('constriction')} AnsCoder + Categorical (24-bit), {SYMBOL_COUNT:,} symbols, {bits / SYMBOL_COUNT:.4f} bits/symbol")
    for name, times in (("encode", encode_times), ("decode", decode_times)):
        best = min(times)
        runs = ", ".join(f"{SYMBOL_COUNT / t / 1e6:.1f}" for t in times)
        print(f"{name}: {SYMBOL_COUNT / best / 1e6:.1f} M symbols/s (best of {len(times)}; runs: {runs})")


if __name__ == "__main__":
    main()
