#!/usr/bin/env bash
# `ersatz completion bash|zsh|fish`: each script parses in its shell, names
# every subcommand, and completes what a user types:
#   bash: `ersatz pi<TAB>` -> ping, `ersatz ping --bu<TAB>` -> --busy-poll,
#         `ersatz dump -i l<TAB>` offers lo;
#   fish: the same first two through `complete -C`.
# Usage: completion_cli.sh ERSATZ
set -uo pipefail
ersatz=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

for sh in bash zsh fish; do
  "$ersatz" completion "$sh" >"$tmp/ersatz.$sh" || { echo "FAIL: completion $sh"; exit 1; }
done
check "bash -n" bash -n "$tmp/ersatz.bash"
if command -v zsh >/dev/null; then check "zsh -n" zsh -n "$tmp/ersatz.zsh"; fi
if command -v fish >/dev/null; then check "fish -n" fish -n "$tmp/ersatz.fish"; fi

# Every subcommand --help lists is in every script.
subs=$("$ersatz" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}')
[ -n "$subs" ] || { echo "FAIL: no subcommands in --help"; exit 1; }
for s in $subs; do
  for sh in bash zsh fish; do
    check "$sh names $s" grep -qw -- "$s" "$tmp/ersatz.$sh"
  done
done

bash_complete() {  # WORDS...: prints COMPREPLY, one per line
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ersatz; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$tmp/ersatz.bash" "$@"
}
check "bash: ersatz pi -> ping" test "$(bash_complete ersatz pi)" = ping
check "bash: ersatz ping --bu -> --busy-poll" test "$(bash_complete ersatz ping --bu)" = --busy-poll
check "bash: ersatz dump -i l offers lo" grep -qx lo <(bash_complete ersatz dump -i l)
check "bash: ersatz ping -c offers nothing (a number)" test -z "$(bash_complete ersatz ping -c "")"
if command -v fish >/dev/null; then
  fish_complete() { fish -c "source $tmp/ersatz.fish; complete -C '$1'" | cut -f1; }
  check "fish: ersatz pi -> ping" test "$(fish_complete 'ersatz pi')" = ping
  check "fish: ersatz ping --bu -> --busy-poll" test "$(fish_complete 'ersatz ping --bu')" = --busy-poll
fi

check "a bad shell exits 2 with one line" \
  bash -c '"$1" completion tcsh 2>"$2/err"; [ $? -eq 2 ] && [ "$(wc -l <"$2/err")" -eq 1 ]' _ "$ersatz" "$tmp"

echo "completion: $failures failed"
[ "$failures" -eq 0 ]
