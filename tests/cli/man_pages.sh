#!/usr/bin/env bash
# The man pages cannot drift from the CLI: every subcommand `ersatz --help`
# lists has a page (man/ersatz-SUB.1.scd) and is named in ersatz(1), and
# every flag `ersatz SUB --help` lists appears in that page, in bold as
# scdoc writes a flag (*-c*, *--count*). Each page renders with scdoc and
# man without a warning.
# Usage: man_pages.sh ERSATZ SOURCE_DIR
set -uo pipefail
ersatz=$1
man_dir=$2/man
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

subs=$("$ersatz" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}')
[ -n "$subs" ] || { echo "FAIL: no subcommands in ersatz --help"; exit 1; }
for flag in --help --version; do
  grep -qF -- "*$flag*" "$man_dir/ersatz.1.scd" || fail "ersatz(1) lacks $flag"
done
for sub in $subs; do
  page=$man_dir/ersatz-$sub.1.scd
  grep -qF -- "*$sub*" "$man_dir/ersatz.1.scd" || fail "ersatz(1) does not name $sub"
  if [ ! -f "$page" ]; then
    fail "no page for $sub ($page)"
    continue
  fi
  # Flags: "  -c,--count N   text" and "  -t TTL   text" in CLI11's help.
  flags=$("$ersatz" "$sub" --help | grep -E '^  -' | awk '{print $1}' | tr ',' '\n' | grep -E '^-')
  n=0
  for f in $flags; do
    n=$((n + 1))
    grep -qF -- "*$f*" "$page" || fail "ersatz-$sub(1) lacks $f"
  done
  echo "ok: ersatz-$sub(1) names its $n flags"
done

if command -v scdoc >/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for page in "$man_dir"/*.scd; do
    name=$(basename "$page" .scd)
    scdoc <"$page" >"$tmp/$name" 2>"$tmp/err" || fail "scdoc $name: $(cat "$tmp/err")"
    # man's own check: groff warnings (-ww) about the roff scdoc wrote.
    warnings=$(MANWIDTH=80 man --warnings -l "$tmp/$name" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "man $name: $warnings"
  done
  echo "ok: every page renders"
fi
echo "man pages: $failures failed"
[ "$failures" -eq 0 ]
