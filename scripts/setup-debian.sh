#!/usr/bin/env bash
# Installs the Debian packages kassa's build and tests need. Idempotent: it
# installs only what is missing and is safe to run again and again.
#
# The Rust toolchain itself (1.85 or newer, with rustfmt and clippy) comes
# from rustup, not from Debian, whose cargo is too old for edition 2024.
set -euo pipefail

packages=(
  gcc            # C compiler for crates with C parts
  libc6-dev
  pkg-config     # finds system libraries for -sys crates
  libclang-dev   # bindgen: the v4l crate generates its V4L2 bindings from the kernel headers
  linux-libc-dev # ... which are these (linux/videodev2.h)
  ca-certificates
  dbus-daemon    # the tests start a private bus
  dbus-bin       # dbus-send
  libglib2.0-bin # gdbus: the tests drive kassad with a client kassa did not write
  systemd        # busctl, as shown in the README; systemd-analyze verifies the unit
  python3-jeepney # the README's Python example, run by the tests
  python3-dbus-next # the asyncio checkout example, run by the tests
  nodejs         # the Node checkout example (dbus-next from the npm registry), run by the tests
  default-jdk-headless # javac and java for the Java checkout example (OpenJDK, about 270 MB) ...
  libdbus-java   # ... on Debian's dbus-java 2.8 (its unix socket and debug jars come with it)
  libsystemd-dev # sd-bus, for the C checkout example, which the tests compile with cc
  chromium       # the web customer screen is tested in headless Chromium ...
  chromium-driver # ... driven over WebDriver
  fonts-wqy-zenhei # a CJK font, so screenshots show item names like 拿铁
  fonts-dejavu-core
  # keyboard-wedge and HID POS scanners:
  libxkbcommon-dev # the wedge decoder compiles keyboard layouts with libxkbcommon ...
  xkb-data       # ... from the xkb layout files (no X server)
  libudev-dev    # hot-plug through a libudev monitor
  util-linux     # unshare and mount: the udev rules' syntax check runs udevadm in a private mount namespace
  # scripts/vm/run-guest (the VM device tests, docs/vm-tests.md):
  qemu-system-x86 # boots Debian's kernel under TCG
  busybox-static # the guest's userland
  cpio           # packs the initramfs
  kmod           # depmod/modprobe resolve the guest's modules
  udev           # systemd-udevd and its rules, copied into the guest
  xz-utils       # unpacks the kernel image once
  strace         # scripts/vm/trace-syscalls: the device paths' calls against the unit's filter
  # scripts/build-deb (the Debian package) and its test:
  dpkg-dev       # dpkg-shlibdeps: the package's library dependencies
  binutils       # strip
  lintian        # the package is checked for lintian errors
  # scripts/vm/acceptance (the package on Debian 12 with systemd, in qemu):
  mmdebstrap     # builds the guest's root file system from Debian's packages
  e2fsprogs      # mkfs.ext4 -d makes its disk image
)
# Debian's npm, unless the node installed already brings its own (as
# NodeSource's does, which Debian's npm would conflict with).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The VM tests fetch the kernel package (linux-image-amd64) with apt-get
# download, which needs the package lists.
if [ -z "$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null)" ]; then
  echo "setup: updating the package lists (the VM tests download the kernel package)" >&2
  $sudo apt-get update -qq
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust 1.87 or newer with rustup (https://rustup.rs)" >&2
  exit 1
fi
version=$(cargo --version | awk '{print $2}')
if [ "$(printf '%s\n1.87.0\n' "$version" | sort -V | head -n1)" != "1.87.0" ]; then
  echo "setup: cargo $version is too old; kassa needs 1.87 or newer (rustup update)" >&2
  exit 1
fi

# scripts/test builds the portable drivers for a Cortex-M4F to prove that
# they need no std. Without the target it skips that build (and says so).
thumb=thumbv7em-none-eabihf
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/$thumb" ]; then
  if ! command -v rustup >/dev/null 2>&1; then
    echo "setup: WARNING: rustup not found, so the $thumb target cannot be added;" \
      "scripts/test will skip the no_std build for it" >&2
  elif ! rustup target add "$thumb"; then
    echo "setup: WARNING: rustup target add $thumb failed (offline?);" \
      "scripts/test will skip the no_std build for it" >&2
  fi
fi
