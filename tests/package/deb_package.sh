#!/usr/bin/env bash
# Builds the Debian packages with CPack, lints them, installs them with
# dpkg and checks what a user gets:
#   - lintian reports no error;
#   - getcap shows cap_net_raw+ep on /usr/bin/ersatz (the postinst);
#   - an unprivileged user (uid 65534) runs `ersatz ping` in a throwaway
#     lab and gets replies; a copy without the capability exits 2 with one
#     line;
#   - `man ersatz-ping` renders; bash completes `ersatz pi` to `ping`;
#   - a program builds against ersatz-dev through pkg-config and runs
#     against libersatz0 with no LD_LIBRARY_PATH;
# then purges them (dpkg -P), leaving the machine as it was.
# Needs root; skips (77) otherwise, or when ersatz is already installed.
# Usage: deb_package.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
src=$2
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (dpkg -i)"; exit 77; fi
for p in ersatz ersatz-dev libersatz0; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
    echo "SKIP: $p is already installed here; not touching it"
    exit 77
  fi
done
tmp=$(mktemp -d)
chmod 755 "$tmp"
# shellcheck source=../lab/lab.sh
source "$src/tests/lab/lab.sh"
failures=0
# This test's own check (lab.sh has one too; this one counts $failures).
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
purge() { dpkg -P ersatz-dev ersatz libersatz0 >/dev/null 2>&1 || true; }
cleanup() { purge; lab_down; rm -rf "$tmp"; }
trap cleanup EXIT

(cd "$build" && cpack -B "$tmp/debs" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
debs=("$tmp"/debs/*.deb)
check "cpack made ersatz, libersatz0 and ersatz-dev (${#debs[@]} packages)" test "${#debs[@]}" -eq 3

if command -v lintian >/dev/null; then
  lintian --fail-on error "${debs[@]}" >"$tmp/lintian.log" 2>&1
  rc=$?
  grep -E '^[EW]: ' "$tmp/lintian.log" | sed 's/^/  lintian: /'
  check "lintian: no errors ($(grep -c '^W: ' "$tmp/lintian.log") warnings)" test "$rc" -eq 0
fi

dpkg -i "${debs[@]}" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; echo "FAIL: dpkg -i"; exit 1; }
check "dpkg -i installed all three" test "$(dpkg-query -W -f='${Status}\n' ersatz ersatz-dev libersatz0 | grep -c 'install ok installed')" -eq 3
check "getcap: cap_net_raw+ep on /usr/bin/ersatz" bash -c "getcap /usr/bin/ersatz | grep -q 'cap_net_raw[+=]ep'"
check "man ersatz-ping renders" bash -c "MANWIDTH=80 man ersatz-ping 2>/dev/null | grep -q 'send ICMP echo requests, like iputils ping'"
check "bash completes 'ersatz pi' to 'ping'" test "$(bash -c 'source /usr/share/bash-completion/completions/ersatz; COMP_WORDS=(ersatz pi); COMP_CWORD=1; _ersatz; echo "${COMPREPLY[*]}"')" = ping

g++ -std=c++20 -o "$tmp/craft_echo" "$src/examples/craft_echo.cpp" $(pkg-config --cflags --libs ersatz) 2>"$tmp/gxx.log"
check "ersatz-dev: craft_echo builds through pkg-config" test -x "$tmp/craft_echo"
check "libersatz0: craft_echo runs without LD_LIBRARY_PATH" bash -c "'$tmp/craft_echo' | grep -q 'ICMP echo request'"

lab_up >/dev/null
out=$(lab_in client setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/ersatz ping -c 2 -i 0.2 "$LAB_ROUTER_IP" 2>&1)
rc=$?
check "uid 65534 runs the installed ersatz ping in the lab (exit $rc)" bash -c "[ $rc -eq 0 ] && grep -q '2 packets transmitted, 2 received' <<<'$out'"
cp /usr/bin/ersatz "$tmp/ersatz-nocap"  # cp leaves the file capability behind
out=$(lab_in client setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/ersatz-nocap" ping -c 1 "$LAB_ROUTER_IP" 2>&1)
rc=$?
check "without the capability: exit 2, one line ($out)" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <<<'$out') -eq 1 ]"

purge
check "dpkg -P removed them" bash -c "! dpkg-query -W -f='\${Status}\n' ersatz ersatz-dev libersatz0 2>/dev/null | grep -q installed"
check "/usr/bin/ersatz is gone" test ! -e /usr/bin/ersatz
echo "packages: $failures failed"
[ "$failures" -eq 0 ]
