# Helpers for the real-kernel scenarios (sourced by tests/kernel/run.sh, inside the guest of
# scripts/kernel-vm, as root). Usable by hand too:
#   scripts/kernel-vm '. tests/kernel/lib.sh; kt_init; start_adapter main C0:FF:EE:00:00:01 sensor; ...'
# Every wait has a timeout and polls (under emulation everything is slow: importing Bumble
# takes ~15 s); no fixed sleep stands in for readiness.

REPO=${REPO:-$(pwd)}
BIN=${KT_BIN:-$REPO/target/release/hci2mqtt}
PY=${KT_PYTHON:-$REPO/.venv-bumble/bin/python}
KT=/run/kt                       # guest tmpfs: pids, FIFOs, binaries with file capabilities
LOG=${KT_LOG:-${KVM_OUT:-/tmp}/logs}
TEST_USER=${KT_USER:-hci2mqtt-test}

kt_init() {
  mkdir -p "$KT" "$LOG"
  chmod 755 "$KT"
  # The sensor: the LYWSD02MMC vectors of the H4/TCP end-to-end test (tests/live_bumble.rs).
  eval "$(python3 - "$REPO/tests/data/vectors/live-bumble.jsonl" <<'EOF'
import json, sys
vs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"MAC={vs[0]['mac']}; KEY={vs[0]['key_hex']}")
print("FRAMES='" + " ".join(v['service_data_hex'] for v in vs) + "'")
EOF
)"
  # The binary with file capabilities needs a filesystem with xattrs (the shared 9p has none).
  mkdir -p "$KT/caps" "$KT/nocap"
  chmod 755 "$KT/caps" "$KT/nocap"
  cp "$BIN" "$KT/caps/hci2mqtt"
  cp "$BIN" "$KT/nocap/hci2mqtt"
  chmod 755 "$KT/caps/hci2mqtt" "$KT/nocap/hci2mqtt"
  setcap cap_net_raw,cap_net_admin+ep "$KT/caps/hci2mqtt"
}

now() { date +%s.%N | cut -c1-14; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# left_of START LIMIT: seconds left (at least 1) until START (a now value) + LIMIT.
left_of() { awk -v s="$1" -v l="$2" -v n="$(now)" 'BEGIN { x = s + l - n; printf "%d", (x < 1 ? 1 : x + 0.999) }'; }

# wait_until TIMEOUT_S CMD...: polls CMD every 0.3 s; 0 as soon as it succeeds.
wait_until() {
  local t=$1; shift
  local end=$(( $(date +%s) + t ))
  while :; do
    "$@" && return 0
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.3
  done
}

# ---- adapters (Bumble controllers on /dev/vhci) ----

# start_adapter NAME ADDRESS [sensor]: a new vhci controller; waits until the kernel registered
# it and finished its setup (hciconfig shows ADDRESS). Sets HCI_<NAME>=hciN.
start_adapter() {
  local name=$1 addr=$2 with=${3:-}
  local st="$LOG/adapter-$name.status" ctl="$KT/$name.ctl"
  : > "$st"
  rm -f "$ctl"; mkfifo "$ctl"
  local args=(--address "$addr" --status "$st" --control "$ctl")
  if [ "$with" = sensor ]; then
    args+=(--mac "$MAC")
    for f in $FRAMES; do args+=(--frame "$f"); done
  fi
  "$PY" "$REPO/tests/kernel/vhci_sensor.py" "${args[@]}" >> "$LOG/adapter-$name.log" 2>&1 &
  echo $! > "$KT/$name.pid"
  local t0; t0=$(now)
  if ! wait_until 120 grep -q '^index ' "$st"; then
    echo "adapter $name: not registered after 120 s" >&2; return 1
  fi
  local idx; idx=$(grep '^index ' "$st" | tail -n1 | cut -d' ' -f2)
  eval "HCI_$name=hci$idx"
  eval "REG_$name=$(now)"
  if ! wait_until 90 adapter_ready "hci$idx" "$addr"; then
    echo "adapter $name: hci$idx not set up after 90 s" >&2; hciconfig "hci$idx" >&2; return 1
  fi
  echo "adapter $name: hci$idx ($addr) ready in $(since "$t0") s" >&2
}

# Setup finished: the address is read, and no init is running.
adapter_ready() {
  local out; out=$(hciconfig "$1" 2>/dev/null) || return 1
  grep -qi "BD Address: $2" <<<"$out" && ! grep -q 'INIT' <<<"$out"
}

hci_gone() { [ ! -e "/sys/class/bluetooth/$1" ]; }

# stop_adapter NAME: kills its process (closes /dev/vhci: the kernel unregisters hciN).
stop_adapter() {
  local name=$1 pid hci
  pid=$(cat "$KT/$name.pid" 2>/dev/null) || return 0
  hci=$(eval echo "\${HCI_$name:-}")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$KT/$name.pid"
  [ -z "$hci" ] || wait_until 30 hci_gone "$hci" || { echo "$hci still registered" >&2; return 1; }
}

adapter_alive() { local p; p=$(cat "$KT/$1.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null; }

# ensure_adapter NAME ADDRESS [sensor]: (re)starts it unless it runs and is registered.
ensure_adapter() {
  local hci; hci=$(eval echo "\${HCI_$1:-}")
  if adapter_alive "$1" && [ -n "$hci" ] && [ -e "/sys/class/bluetooth/$hci" ]; then return 0; fi
  stop_adapter "$1" || true
  start_adapter "$@"
}

ctl() { echo "${*:2}" > "$KT/$1.ctl"; }

# scan_trace NAME [FROM]: HCI Reset and the scan commands (LE Set Scan Parameters/Enable, extended) a
# controller got since line FROM of its status file, e.g. "200b:00.. 200c:0100 200c:0000".
scan_trace() {
  tail -n +"${2:-1}" "$LOG/adapter-$1.status" | awk '$1 == "cmd" && $2 ~ /^(0c03|200b|200c|2041|2042)$/ { printf "%s%s:%s", sep, $2, substr($3, 1, 4); sep = " " } $1 == "did" { printf "%s[%s]", sep, $2; sep = " " }'
}

# Scan enables (LE Set Scan Enable / Set Extended Scan Enable with enable=1) a controller got
# since line FROM of its status file.
scan_enables() {
  tail -n +"${2:-1}" "$LOG/adapter-$1.status" | grep -cE '^cmd (200c|2042) 01' || true
}
status_lines() { wc -l < "$LOG/adapter-$1.status"; }

# ---- hci2mqtt ----

# start_h2m TAG WHO ARGS...: WHO = root | caps (setcap'd copy, as TEST_USER) | nocap (plain
# copy, as TEST_USER). stdout → $LOG/TAG.out (JSON lines), stderr → $LOG/TAG.err.
start_h2m() {
  local tag=$1 who=$2; shift 2
  local cmd
  case $who in
    root) cmd=("$BIN") ;;
    caps) cmd=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups "$KT/caps/hci2mqtt") ;;
    nocap) cmd=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups "$KT/nocap/hci2mqtt") ;;
  esac
  : > "$LOG/$tag.out"; : > "$LOG/$tag.err"
  (cd "$KT" && exec "${cmd[@]}" "$@" > "$LOG/$tag.out" 2> "$LOG/$tag.err" < /dev/null) &
  echo $! > "$KT/$tag.pid"
}

h2m_alive() { kill -0 "$(cat "$KT/$1.pid")" 2>/dev/null; }

# readings FILE: JSON lines of our sensor with a measurement.
readings() { grep -c "\"mac\":\"$MAC\".*\"\\(temperature\\|humidity\\)\"" "$1" 2>/dev/null || true; }
readings_at_least() { [ "$(readings "$1")" -ge "$2" ]; }

# wait_readings TAG N TIMEOUT: until TAG.out holds N readings (0) or TIMEOUT s pass (1).
wait_readings() { wait_until "$3" readings_at_least "$LOG/$1.out" "$2"; }

# stop_h2m TAG [SIGNAL]: signals it, waits up to 15 s; sets H2M_RC (exit code, or "hung").
stop_h2m() {
  local pid; pid=$(cat "$KT/$1.pid")
  kill -"${2:-TERM}" "$pid" 2>/dev/null || true
  local end=$(( $(date +%s) + 15 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; H2M_RC=hung
  else
    H2M_RC=0; wait "$pid" || H2M_RC=$?
  fi
}

# wait_exit TAG TIMEOUT: for a process that should end by itself; sets H2M_RC.
wait_exit() {
  local pid; pid=$(cat "$KT/$1.pid")
  if wait_until "$2" eval "! kill -0 $pid 2>/dev/null"; then
    H2M_RC=0; wait "$pid" || H2M_RC=$?
  else
    kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; H2M_RC=hung
  fi
}

last_err() { tail -n "${2:-3}" "$LOG/$1.err" | tr '\n' '|' | cut -c1-300; }

# ---- bluetoothd ----

start_bluetoothd() {
  if [ ! -e /run/dbus/system_bus_socket ]; then
    mkdir -p /run/dbus
    dbus-daemon --system --fork --nopidfile
    wait_until 20 test -S /run/dbus/system_bus_socket || { echo "no dbus" >&2; return 1; }
  fi
  /usr/libexec/bluetooth/bluetoothd -n >> "$LOG/bluetoothd.log" 2>&1 &
  echo $! > "$KT/bluetoothd.pid"
  # bluetoothd powers the adapter on.
  wait_until 60 bt_powered || { echo "bluetoothd did not power the adapter on" >&2; return 1; }
}
bt_powered() { timeout 20 bluetoothctl show 2>/dev/null | grep -aq 'Powered: yes'; }
stop_bluetoothd() {
  btctl_stop
  local pid; pid=$(cat "$KT/bluetoothd.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  rm -f "$KT/bluetoothd.pid"
}

# An interactive bluetoothctl session fed through a FIFO; its output in $LOG/TAG.btctl.
btctl_start() {
  BTCTL_TAG=$1
  rm -f "$KT/btctl.in"; mkfifo "$KT/btctl.in"
  bluetoothctl < "$KT/btctl.in" > "$LOG/$1.btctl" 2>&1 &
  echo $! > "$KT/btctl.pid"
  exec 8> "$KT/btctl.in"
}
btctl() { echo "$*" >&8; }
btctl_has() { grep -aq "$1" "$LOG/$BTCTL_TAG.btctl"; }
btctl_stop() {
  local pid; pid=$(cat "$KT/btctl.pid" 2>/dev/null) || return 0
  { echo "scan off"; echo quit; } 2>/dev/null >&8 || true
  exec 8>&- 2>/dev/null || true
  wait_until 10 eval "! kill -0 $pid 2>/dev/null" || kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$KT/btctl.pid"
}
# Discovering: yes per `bluetoothctl show` (a separate client).
bt_discovering() { timeout 20 bluetoothctl show 2>/dev/null | grep -aq 'Discovering: yes'; }
