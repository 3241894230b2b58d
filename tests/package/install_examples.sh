#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds the examples against
# the INSTALLED package, once through find_package(ersatz) and once through
# pkg-config, then runs them:
#   - craft_echo (in-memory device, no privileges) must print its echo;
#   - decode_pcap must print what `ersatz dump -tt -r` prints;
#   - as root, mini_ping must get 3 replies from the router of a throwaway
#     netns lab (tests/lab/lab.sh).
# Also checks that the installed headers name no private header and no
# build-only dependency, and that libersatz.so carries its SONAME.
# Usage: install_examples.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
prefix=$tmp/prefix
[ -f "$prefix/lib/cmake/ersatz/ersatzConfig.cmake" ] || fail "no ersatzConfig.cmake"
[ -f "$prefix/lib/cmake/ersatz/ersatzConfigVersion.cmake" ] || fail "no version file"
[ -f "$prefix/lib/pkgconfig/ersatz.pc" ] || fail "no ersatz.pc"
[ -x "$prefix/bin/ersatz" ] || fail "no bin/ersatz"
soname=$(readelf -d "$prefix"/lib/libersatz.so.*.*.* | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libersatz.so.0" ] || fail "SONAME is '$soname', want libersatz.so.0"
echo "ok: installed, SONAME $soname"
version=$("$prefix/bin/ersatz" --version)
want_rev=$(git -C "$src" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
echo "$version" | grep -qxE "ersatz [0-9]+\.[0-9]+\.[0-9]+ \(([0-9a-f]{12}(-dirty)?|unknown)\)" ||
  fail "ersatz --version printed '$version'"
# The revision is a commit of this tree's history (the build may predate
# the last commit: ctest does not rebuild).
rev=${version#*(}
rev=${rev%)}
rev=${rev%-dirty}
if [ "$want_rev" != unknown ]; then
  git -C "$src" merge-base --is-ancestor "$rev" HEAD 2>/dev/null ||
    fail "ersatz --version names '$version', not a commit of this tree ($want_rev)"
fi
echo "ok: $version"

# Public headers include only ersatz's public headers, the standard
# library, fmt, tl::expected and system headers.
bad=$(grep -rhoE '#include [<"][^>"]+[>"]' "$prefix/include/ersatz" |
  sed -E 's/#include [<"]([^>"]+)[>"]/\1/' | sort -u |
  grep -vE '^(ersatz/|fmt/|tl/|sys/|linux/|net/|netinet/|[a-z_]+$|[a-z_]+\.h$)' || true)
[ -z "$bad" ] || fail "installed headers include: $bad"
for h in $(grep -rhoE '#include "ersatz/[^"]+"|#include <ersatz/[^>]+>' "$prefix/include/ersatz" |
  sed -E 's/#include [<"]([^>"]+)[>"]/\1/' | sort -u); do
  [ -f "$prefix/include/$h" ] || fail "installed headers include $h, which is not installed"
done
echo "ok: installed headers are self-contained"

# find_package
cmake -S "$src/examples" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/cmake-build" -j2 >/dev/null || fail "examples do not build with find_package"
out=$("$tmp/cmake-build/craft_echo")
echo "$out" | grep -q "198.18.0.1 > 198.18.0.2: ICMP echo request, id 4660, seq 1, length 40" ||
  fail "craft_echo printed: $out"
echo "ok: find_package: craft_echo: $out"
"$tmp/cmake-build/decode_pcap" "$src/tests/data/sample.pcap" >"$tmp/decoded.txt"
TZ=UTC "$prefix/bin/ersatz" dump -tt -r "$src/tests/data/sample.pcap" >"$tmp/dumped.txt" 2>/dev/null
diff -q "$tmp/decoded.txt" "$tmp/dumped.txt" >/dev/null || fail "decode_pcap differs from ersatz dump -tt"
[ -s "$tmp/decoded.txt" ] || fail "decode_pcap printed nothing"
echo "ok: find_package: decode_pcap prints what ersatz dump -tt prints ($(wc -l <"$tmp/decoded.txt") lines)"

# pkg-config, against the shared library
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion ersatz)" = "$(sed -n 's/^project(ersatz VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ] ||
  fail "pkg-config --modversion: $(pkg-config --modversion ersatz)"
for ex in craft_echo decode_pcap; do
  # shellcheck disable=SC2046
  g++ -std=c++20 -o "$tmp/pc-$ex" "$src/examples/$ex.cpp" $(pkg-config --cflags --libs ersatz) ||
    fail "$ex does not build with pkg-config"
done
readelf -d "$tmp/pc-craft_echo" | grep -q 'NEEDED.*libersatz.so.0' || fail "pkg-config build does not use libersatz.so.0"
out=$(LD_LIBRARY_PATH=$prefix/lib "$tmp/pc-craft_echo")
echo "$out" | grep -q "ICMP echo request, id 4660, seq 1" || fail "pkg-config craft_echo printed: $out"
LD_LIBRARY_PATH=$prefix/lib "$tmp/pc-decode_pcap" "$src/tests/data/sample.pcap" | diff -q - "$tmp/dumped.txt" >/dev/null ||
  fail "pkg-config decode_pcap differs"
echo "ok: pkg-config: craft_echo and decode_pcap against libersatz.so.0"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "ok (mini_ping's lab run skipped: not root)"
  exit 0
fi
# shellcheck source=../lab/lab.sh
source "$src/tests/lab/lab.sh"
lab_up >/dev/null
out=$(lab_in client timeout 20 "$tmp/cmake-build/mini_ping" "$LAB_ROUTER_IP" 3 2>&1) || fail "mini_ping: $out"
echo "$out" | grep -q "3 packets transmitted, 3 received" || fail "mini_ping printed: $out"
[ "$(echo "$out" | grep -c "bytes from $LAB_ROUTER_IP: icmp_seq=")" -eq 3 ] || fail "mini_ping replies: $out"
echo "ok: mini_ping on the lab: 3 of 3 replies"
