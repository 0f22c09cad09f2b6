#!/usr/bin/env bash
# Installs everything Outpace needs to build, test and run, from Debian 12 packages only.
# Safe to run again: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config git clang-format
  # the engine's libraries
  libsofia-sip-ua-dev libevent-dev libzmq3-dev cppzmq-dev librocksdb-dev prometheus-cpp-dev
  libyaml-cpp-dev libphonenumber-dev libicu-dev libcli11-dev nlohmann-json3-dev libcctz-dev tzdata
  libspandsp-dev libsndfile1-dev libsodium-dev libc-ares-dev libsrtp2-dev libcivetweb-dev libssl-dev
  # tests
  doctest-dev sip-tester python3 espeak-ng sox baresip-core linphone-cli prometheus dnsmasq-base
  kamailio  # deploy/cluster: the proxy in front of several engines (tests/cluster_test.cc)
  chromium chromium-driver python3-selenium fonts-dejavu-core  # the web desktop's browser tests
  man-db  # the manual page is rendered once to check it
  # fuzzing (tests/fuzz): clang and its libFuzzer runtime
  clang libclang-rt-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
# The tests run their own Prometheus on loopback; the package's own daemon (0.0.0.0:9090) is not
# wanted on a build machine.
if printf '%s\n' "${missing[@]}" | grep -qx prometheus && command -v systemctl >/dev/null &&
  systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl disable --now prometheus || true
fi
