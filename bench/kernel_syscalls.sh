#!/usr/bin/env bash
# System calls and CPU per event through the raw HCI socket of a real kernel, beside `replay`
# of the same events (issue 11, batched reads). Not a test: it prints. Run on the host:
#   bench/kernel_syscalls.sh [EVENTS] [RATE]        (default 10000 events at 1000/s)
# It boots the VM of scripts/kernel-vm; inside, a Bumble controller behind /dev/vhci is hci0
# and sends the first EVENTS events of the bench stream (bench/gen_stream.py --seed 1) to the
# kernel at RATE events/s (vhci_sensor.py `flood`); hci2mqtt runs on hci0 once under
# `strace -f -c` and once without (CPU from /proc/PID/schedstat).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10000}
RATE=${2:-1000}
if [ "${KT_IN_GUEST:-}" != 1 ]; then
  d=target/bench/seed1-100000
  [ -f "$d/stream.h4" ] || python3 bench/gen_stream.py --seed 1 --events 100000 --out "$d" --no-text >/dev/null
  cargo build -q --release --bin hci2mqtt
  python3 - "$d/stream.h4" "$EVENTS" target/bench/kernel-events.h4 <<'PY'
import sys
sys.path.insert(0, 'bench')
from hcistream import iter_h4
ev = list(iter_h4(open(sys.argv[1], 'rb').read()))[:int(sys.argv[2])]
open(sys.argv[3], 'wb').write(b''.join(ev))
PY
  KT_IN_GUEST=1 KERNEL_VM_ENV="KT_IN_GUEST" exec scripts/kernel-vm bench/kernel_syscalls.sh "$EVENTS" "$RATE"
fi
. tests/kernel/lib.sh
kt_init
start_adapter main C0:FF:EE:00:00:01
H4=$REPO/target/bench/kernel-events.h4
KEYS=$(python3 -c 'import json,sys; print(" ".join("--key %s=%s" % kv for kv in json.load(open(sys.argv[1])).items()))' "$REPO/target/bench/seed1-100000/keys.json")
flood_once() {  # TAG: start the flood and wait until the controller says it is done
  local before; before=$(grep -c '^flooded' "$LOG/adapter-main.status" || true)
  ctl main flood "$H4" "$RATE"
  wait_until $((EVENTS / RATE * 4 + 60)) sh -c "[ \$(grep -c '^flooded' '$LOG/adapter-main.status') -gt $before ]"
  grep '^flooded' "$LOG/adapter-main.status" | tail -n1
}
# shellcheck disable=SC2086
start_h2m st root run --adapter "$HCI_main" --scanner kernel $KEYS
sleep 3
pid=$(cat "$KT/st.pid")
strace -f -c -p "$pid" -o "$LOG/strace.txt" & spid=$!
sleep 1
flood_once
sleep 1
kill -INT "$spid"; wait "$spid" || true
stop_h2m st
total=$(awk '$NF=="total" {print $4}' "$LOG/strace.txt")
echo "live (strace -c -p, during the flood): $total system calls for $EVENTS events -> $(awk -v t="$total" -v n="$EVENTS" 'BEGIN{printf "%.3f", t/n}') per event; readings $(wc -l < "$LOG/st.out")"
sort -k4 -n -r "$LOG/strace.txt" | awk 'NF>=5 && $1 ~ /^[0-9]/ {print "  " $NF, $4}' | head -6
# shellcheck disable=SC2086
start_h2m cpu root run --adapter "$HCI_main" --scanner kernel $KEYS
sleep 3
pid=$(cat "$KT/cpu.pid")
c0=$(cut -d' ' -f1 "/proc/$pid/schedstat")
flood_once
sleep 1
c1=$(cut -d' ' -f1 "/proc/$pid/schedstat")
stop_h2m cpu
live_ns=$((c1 - c0))
echo "live CPU (schedstat): $((live_ns / 1000)) us for $EVENTS events -> $(awk -v t="$live_ns" -v n="$EVENTS" 'BEGIN{printf "%.2f", t/n/1000}') us/event; readings $(wc -l < "$LOG/cpu.out")"
# shellcheck disable=SC2086
python3 - "$BIN" "$H4" "$EVENTS" $KEYS <<'PY'
import resource, subprocess, sys
binary, h4, n, keys = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
runs = []
for _ in range(3):
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([binary, 'replay', h4] + keys, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs.append(a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime)
cpu = sorted(runs)[1]
print(f"replay CPU (getrusage, median of 3): {cpu * 1e6:.0f} us -> {cpu / n * 1e6:.2f} us/event; readings {out.count(10)}")
PY
