#!/usr/bin/env bash
# Builds and runs the side-by-side camera decoding benchmark (release, one
# thread, one run): bench/camera/run.sh [--per-category N] [--empty N]
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
cargo build --release --locked
exec ./target/release/kassa-camera-bench "$@"
