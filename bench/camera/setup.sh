#!/usr/bin/env bash
# Debian packages the camera benchmark needs: cmake and g++ for zxing-cpp's
# bundled C++ build, libzbar-dev for zbar, pkg-config to find it.
set -euo pipefail
need=()
for pkg in cmake g++ pkg-config libzbar-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    apt-get update -qq
    apt-get install -y -qq "${need[@]}"
fi
