#!/usr/bin/env bash
# Installs the Debian 12 packages ersatz builds, tests and benchmarks with.
# Idempotent, and offline once everything is installed: apt is only
# called for packages that are missing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
  # the Windows build (windows preset) and Wine to test it on Linux
  g++-mingw-w64-x86-64 wine64
  # libraries (never vendored)
  libfmt-dev libexpected-dev libcli11-dev libpcap-dev libnl-route-3-dev libcap-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtins-dev
  # oracles, anchors and lab tools
  tcpdump tshark python3 python3-scapy iproute2 iputils-ping nftables libcap2-bin hyperfine
  fping zmap time traceroute
  # packaging: man pages, API reference, completions checked in their shells, .deb lint
  scdoc doxygen zsh fish man-db dpkg-dev file lintian
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
