#!/usr/bin/env bash
# The commands that trained the built-in models (Sources/BuiltinModels/weights/), one after the
# other on this project's 2-core machine; docs/MODELS.md has their figures and
# docs/training/NAME.log their output. Same seed, data and thread count: same weights.
#
#   scripts/train-models.sh [OUT_FOLDER]      (default: ./models; needs bbans built in release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-models}
B="$root/.build/release/bbans"
M="$root/../shared/data/mnist/train-images-idx3-ubyte.gz"      # first 50,000 train, last 10,000 validate
F=/usr/share/datasets/fashion-mnist                            # apt-get install -y dataset-fashion-mnist
# What it needs, checked before anything runs: one line and exit status 2 for what is missing.
[ -x "$B" ] || { echo "train-models.sh: $B is missing: run 'swift build -c release' first" >&2; exit 2; }
[ -f "$M" ] || { echo "train-models.sh: MNIST's training images are needed at $M (../shared/data/mnist beside the repository)" >&2; exit 2; }
[ -f "$F/train-images-idx3-ubyte.gz" ] && [ -f "$F/t10k-images-idx3-ubyte.gz" ] \
  || { echo "train-models.sh: Fashion-MNIST is needed in $F: apt-get install -y dataset-fashion-mnist" >&2; exit 2; }
mkdir -p "$out"
# The context networks (docs/MODELS.md says why): 128 hidden units per pixel; mnist and
# fashion-mnist see the 12 nearest neighbours, mnist-binary the 24 nearest. mnist and
# mnist-binary take 2 decoder features per pixel, fashion-mnist 4, with the decoder's last
# hidden layer narrowed to 300 to keep the file under 8 MB; the 8-bit models use a mixture of 4
# logistics. mnist and mnist-binary keep a moving average of their weights (--average-decay)
# and were trained side by side, one thread each; fashion-mnist's first run ran beside the
# previous round's runs. --threads is part of a command (the same seed, data and thread count give
# the same weights; its default is the machine's cores), and --builtin-name lets train take the
# name of a built-in model, which it otherwise refuses.
CONTEXT="--context --context-features 2 --context-hidden 128 --hidden 500,500 --latents 50 --kl-warmup 2"
CONTEXT_FASHION="--context --context-features 4 --context-hidden 128 --context-neighbours 12 --hidden 500,500 --decoder-hidden 500,300 --latents 50 --kl-warmup 2"

train() { local name=$1; shift; "$B" train "$@" -o "$out/$name.bbm" --name "$name" --builtin-name -f | tee "$out/$name.log"; }

# Causal-context models (the defaults).
train mnist         "$M" --likelihood logistic-mixture --components 4 $CONTEXT --context-neighbours 12 --threads 1 --epochs 34 \
  --validation 10000 --validate-every 2 --weight-decay 0.1 --average-decay 0.9995
train mnist-binary  "$M" --likelihood bernoulli $CONTEXT --context-neighbours 24 --threads 1 --epochs 34 \
  --validation 10000 --validate-every 2 --weight-decay 0.01 --average-decay 0.9995
# fashion-mnist: 20 epochs, then 16 more from those weights with the moving average (the second
# command ran alone, on both cores).
"$B" train "$F/train-images-idx3-ubyte.gz" -o "$out/fashion-mnist-20.bbm" --name fashion-mnist --builtin-name -f --likelihood logistic-mixture \
  --components 4 $CONTEXT_FASHION --threads 1 --epochs 20 --validation-data "$F/t10k-images-idx3-ubyte.gz" --validate-every 2 \
  --weight-decay 0.05 | tee "$out/fashion-mnist-20.log"
train fashion-mnist "$F/train-images-idx3-ubyte.gz" --start-from "$out/fashion-mnist-20.bbm" --threads 2 --epochs 16 \
  --learning-rate 3e-4 --final-learning-rate 0.1 --validation-data "$F/t10k-images-idx3-ubyte.gz" --validate-every 2 \
  --weight-decay 0.05 --average-decay 0.999

# The row summary (issue 16, docs/MODELS.md "Row-summary models"): mnist and mnist-binary go on
# from the models above (kept as the retired mnist-v1 and mnist-binary-v1) with a summary of the
# whole causal past added to their context heads (--rows 16,16: a 16-wide recurrent state per
# column over the rows above, a 16-wide global vector per row, 4 moving averages of the current
# row to the left; its first-layer weights start at 0, so training starts where v1 was). They
# ran side by side, one thread each, beside other work, in two parts each, as below: the first
# part was stopped (mnist-binary by mistake during epoch 6; mnist after epoch 6, its best at 5,
# when it had stopped improving), and the second went on from the weights it had written (each
# validation writes the best) with --first-epoch 6 of the same 12-epoch schedule, mnist with
# --shift 1. The first parts ran with the build of commit 2d572da, whose training pass summed
# the first layer in another order (the same function, other rounding): re-running them with a
# later build gives other weights of the same quality. The logs: docs/training/*-rows*.log.
mkdir -p "$out/v1" && cp "$out/mnist.bbm" "$out/v1/mnist.bbm" && cp "$out/mnist-binary.bbm" "$out/v1/mnist-binary.bbm"
ROWS="--threads 1 --epochs 12 --learning-rate 5e-4 --final-learning-rate 0.1 --validation 10000 --validate-every 1 --average-decay 0.9995"
# First parts: stop each after the epoch named (Ctrl-C; the file holds the best weights so far).
"$B" train "$M" --start-from "$out/v1/mnist-binary.bbm" --rows 16,16 $ROWS --weight-decay 0.01 \
  -o "$out/mnist-binary-rows-e5.bbm" --name mnist-binary --builtin-name -f | tee "$out/mnist-binary-rows-stopped.log"  # to epoch 5
"$B" train "$M" --start-from "$out/v1/mnist.bbm" --rows 16,16 $ROWS --weight-decay 0.1 \
  -o "$out/mnist-rows-e5.bbm" --name mnist --builtin-name -f | tee "$out/mnist-rows-noshift-stopped.log"  # to epoch 6 (best: 5)
# Second parts.
train mnist-binary "$M" --start-from "$out/mnist-binary-rows-e5.bbm" --first-epoch 6 $ROWS --weight-decay 0.01
train mnist        "$M" --start-from "$out/mnist-rows-e5.bbm" --first-epoch 6 --shift 1 $ROWS --weight-decay 0.1

# fashion-mnist with a row summary, from scratch on the first 50,000 training images, validated
# on the last 10,000 (the v1 model above, now fashion-mnist-v1, trained on all 60,000 and was
# validated on the test split); alone on both cores.
train fashion-mnist "$F/train-images-idx3-ubyte.gz" --likelihood logistic-mixture --components 4 $CONTEXT_FASHION \
  --rows 16,16 --threads 2 --epochs 20 --validation 10000 --validate-every 2 --weight-decay 0.05 --average-decay 0.9995
# That model is now fashion-mnist-v2 (its int16 form fashion-mnist-v3). The current fashion-mnist
# went on from it for 10 more epochs, alone on both cores (log: fashion-mnist-continued.log; the
# same run with --shift 1 made it worse, 2.9447: fashion-mnist-continued-shift1-rejected.log).
mkdir -p "$out/v2" && cp "$out/fashion-mnist.bbm" "$out/v2/fashion-mnist.bbm"
train fashion-mnist "$F/train-images-idx3-ubyte.gz" --start-from "$out/v2/fashion-mnist.bbm" --threads 2 --epochs 10 \
  --learning-rate 2e-4 --final-learning-rate 0.1 --validation 10000 --validate-every 2 --weight-decay 0.05 --average-decay 0.9995
# That model is now fashion-mnist-v4 (its int16 form; its Float file is
# weights/retired/fashion-mnist-v4.float32.bbm). The current fashion-mnist went on from it with a
# second hidden layer of 64 units in its per-pixel network (--context-deeper 64: it starts as the
# output layer's product and its negative, so training starts at the model's figures): 10 epochs
# on one thread beside other runs, then 6 more alone on both cores at a lower learning rate
# (docs/MODELS.md, "Depth and width"; the 128-unit layer and the wider first layer tried beside
# it: fashion-mnist-deep128-*-not-used.log, fashion-mnist-wide256-not-used.log, with
# --context-deeper 128 or --context-hidden 256 in place of --context-deeper 64).
mkdir -p "$out/v4" && cp "$out/fashion-mnist.bbm" "$out/v4/fashion-mnist.bbm"
DEEP="--final-learning-rate 0.1 --validation 10000 --validate-every 2 --average-decay 0.9995"
"$B" train "$F/train-images-idx3-ubyte.gz" --start-from "$out/v4/fashion-mnist.bbm" --context-deeper 64 --threads 1 --epochs 10 \
  --learning-rate 5e-4 $DEEP --weight-decay 0.05 -o "$out/fashion-mnist-deep64-10.bbm" --name fashion-mnist --builtin-name -f \
  | tee "$out/fashion-mnist-deep64-10.log"
"$B" train "$F/train-images-idx3-ubyte.gz" --start-from "$out/fashion-mnist-deep64-10.bbm" --threads 2 --epochs 6 --learning-rate 1e-4 \
  $DEEP --weight-decay 0.05 -o "$out/fashion-mnist.bbm" --name fashion-mnist --builtin-name -f | tee "$out/fashion-mnist-deep64-16.log"
# mnist the same way, from the row-summary mnist above (now mnist-v2, its int16 form mnist-v3),
# with its weight decay and --shift 1: 10 epochs on both cores, then 6 more on one thread, each
# beside another run.
mkdir -p "$out/v2" && cp "$out/mnist.bbm" "$out/v2/mnist.bbm"
"$B" train "$M" --start-from "$out/v2/mnist.bbm" --context-deeper 64 --threads 2 --epochs 10 --learning-rate 5e-4 $DEEP \
  --weight-decay 0.1 --shift 1 -o "$out/mnist-deep64-10.bbm" --name mnist --builtin-name -f | tee "$out/mnist-deep64-10.log"
"$B" train "$M" --start-from "$out/mnist-deep64-10.bbm" --threads 1 --epochs 6 --learning-rate 1e-4 $DEEP \
  --weight-decay 0.1 --shift 1 -o "$out/mnist.bbm" --name mnist --builtin-name -f | tee "$out/mnist-deep64-16.log"

# Factorized ("plain") models: p(x|z) = ∏ p(x_i|z).
PLAIN="--hidden 500,500 --latents 50 --threads 2"
train mnist-plain         "$M" --likelihood beta-binomial $PLAIN --epochs 12 --validation 10000 --validate-every 2 --weight-decay 0.05
# mnist-binary-plain has an IAF posterior (issue 17, docs/MODELS.md "Flow posteriors"): 4 steps of
# 100-unit MADEs, 24 epochs (12 left it far from converged). Its diagonal predecessor, now
# mnist-binary-plain-v1 (and its int16 form mnist-binary-plain-v2), came from the same command
# with --epochs 12 and without --posterior (log: docs/training/mnist-binary-plain-v1.log).
train mnist-binary-plain  "$M" --likelihood bernoulli $PLAIN --epochs 24 --validation 10000 --validate-every 2 --weight-decay 0.01 \
  --posterior iaf:4,100
train fashion-mnist-plain "$F/train-images-idx3-ubyte.gz" --likelihood beta-binomial $PLAIN --epochs 10 \
  --validation-data "$F/t10k-images-idx3-ubyte.gz" --validate-every 2 --weight-decay 0.05

# int16 arithmetic (issue 18, docs/MODELS.md "int16 arithmetic"): every current built-in model is
# the int16 form of the Float weights file above, made by the registry as this command writes it
# (Sources/BuiltinModels/BuiltinModels.c records each one's figures and identity, which these
# commands print). The Float models are built in as retired models (NAME-v2 for the row-summary
# ones, NAME-v1 for the plain ones), which is what the commands convert; with the files above,
# "$out/$name.bbm" is the same model (mnist-binary-plain-v1 converts to the retired
# mnist-binary-plain-v2). The IAF mnist-binary-plain's Float file was never a built-in model:
# its int16 form is converted from the file, and so are the current fashion-mnist's and mnist's
# and fashion-mnist-v4's (fashion-mnist-v2 converts to the retired fashion-mnist-v3, mnist-v2 to
# mnist-v3). The output:
# docs/training/int16-convert.log.
{
  for name in mnist-v2 mnist-binary-v2 fashion-mnist-v2 mnist-plain-v1 mnist-binary-plain-v1 fashion-mnist-plain-v1; do
    case $name in fashion*) data="$F/train-images-idx3-ubyte.gz" ;; *) data="$M" ;; esac
    "$B" convert "$name" -o "$out/${name%-v?}-int16.bbm" -f --arithmetic int16 --name "${name%-v?}" --builtin-name \
      --validation-data "$data" --last 10000
  done
  "$B" convert "$out/mnist-binary-plain.bbm" -o "$out/mnist-binary-plain-iaf-int16.bbm" -f --arithmetic int16 \
    --name mnist-binary-plain --builtin-name --validation-data "$M" --last 10000
  "$B" convert "$out/v4/fashion-mnist.bbm" -o "$out/fashion-mnist-v4-int16.bbm" -f --arithmetic int16 \
    --name fashion-mnist --builtin-name --validation-data "$F/train-images-idx3-ubyte.gz" --last 10000
  "$B" convert "$out/fashion-mnist.bbm" -o "$out/fashion-mnist-int16.bbm" -f --arithmetic int16 \
    --name fashion-mnist --builtin-name --validation-data "$F/train-images-idx3-ubyte.gz" --last 10000
  "$B" convert "$out/mnist.bbm" -o "$out/mnist-int16.bbm" -f --arithmetic int16 \
    --name mnist --builtin-name --validation-data "$M" --last 10000
} | tee "$out/int16-convert.log"
