#!/usr/bin/env bash
# Idle cost of `hci2mqtt run`: scanning through Bumble's virtual controller (H4/TCP) with the only
# advertiser silenced, count epoll_wait returns over SECONDS (default 60) with strace, after a
# 3 s settling period (connect + scan setup). With the default watchdog (300 s) and no MQTT,
# the loop has no timer due in that window, so the expected figure is 0.
#   bench/live_idle.sh [SECONDS]     (BIN=target/debug/hci2mqtt by default)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
BIN=${BIN:-target/debug/hci2mqtt}
PY=${BUMBLE_PYTHON:-.venv-bumble/bin/python}
[ -x "$PY" ] || { echo "needs Bumble: scripts/setup-bumble" >&2; exit 1; }
command -v strace >/dev/null || { echo "needs strace" >&2; exit 1; }
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PY" tests/bumble/virtual_controllers.py --port "$port" --mac A4:C1:38:0E:FD:78 \
  --frame 585842258878fd0e38c1a405f6538aa72a0062b1a966 --silence-after 0 >"$tmp/bumble.out" &
bpid=$!
trap 'kill $bpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q READY "$tmp/bumble.out" && break; sleep 0.1; done
strace -ttt -e trace=epoll_wait -o "$tmp/strace.txt" "$BIN" run --adapter "tcp:127.0.0.1:$port" >/dev/null 2>"$tmp/err" &
spid=$!
sleep 3
t0=$(date +%s.%N)
sleep "$SECS"
t1=$(date +%s.%N)
hpid=$(pgrep -P "$spid" || true)
kill -TERM "${hpid:-$spid}" 2>/dev/null || true
wait "$spid" || true
total=$(grep -c 'epoll_wait(' "$tmp/strace.txt" || true)
window=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 < b && /epoll_wait\(/ { n++ } END { print n + 0 }' "$tmp/strace.txt")
echo "epoll_wait returns during ${SECS} s idle (after setup): $window"
echo "epoll_wait calls in the whole run (connect, setup, idle, SIGTERM): $total"
grep -E 'scanning|exit:' "$tmp/err" || true
