#!/usr/bin/env bash
# Installs from Debian's packages what bbans needs and this machine lacks: libzstd-dev and
# zlib1g-dev (with pkg-config, which finds them), and dataset-fashion-mnist (the README's
# results and the models' training data). Uses sudo when not run as root.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev)
pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi
