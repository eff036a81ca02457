#!/usr/bin/env bash
# The real-kernel scenarios, run inside ONE guest of scripts/kernel-vm (as root, in the repo
# root, Bluetooth modules loaded) by scripts/test.d/20-kernel.
#
# Each scenario is a function `s_NAME` that sets EV (the evidence: counts, exit codes,
# messages) and returns 0 (PASS) or non-zero (FAIL). To add one: write the function and add
# its NAME to SCENARIOS. KERNEL_SCENARIOS="root scan" runs a subset (in the order given).
# One line per scenario goes to $KVM_OUT/results: `PASS|FAIL NAME (SECONDS s): EVIDENCE`;
# logs of every process in $KVM_OUT/logs/.
set -euo pipefail
# KT_BIN=PATH tests another binary (a relative PATH is taken from the caller's cwd).
[ -z "${KT_BIN:-}" ] || KT_BIN=$(realpath "$KT_BIN")
cd "$(dirname "$0")/../.."
. tests/kernel/lib.sh

SCENARIOS="root setcap nocap scan record-pcapng record-btsnoop signals hw-error controller-reset
controller-reset-watchdog hciconfig-reset replug-root replug-setcap two-adapters bt-idle bt-discovering listen-only"

MAIN_ADDR=C0:FF:EE:00:00:01
OTHER_ADDR=C0:FF:EE:00:00:02
main() { ensure_adapter main "$MAIN_ADDR" sensor; }
run_args() { echo run --adapter "$HCI_main" --key "$MAC=$KEY"; }

# Runs TAG as WHO until N readings (or TIMEOUT), then SIGTERM. Sets N_READ, WAIT_S, H2M_RC.
readings_then_term() {
  local tag=$1 who=$2 n=$3 timeout=$4; shift 4
  local t0; t0=$(now)
  start_h2m "$tag" "$who" "$@"
  wait_readings "$tag" "$n" "$timeout" || true
  WAIT_S=$(since "$t0")
  N_READ=$(readings "$LOG/$tag.out")
  stop_h2m "$tag"
}

s_root() {
  main || { EV="main adapter not ready"; return 1; }
  readings_then_term root root 4 60 $(run_args)
  EV="$N_READ readings in $WAIT_S s as root; SIGTERM exit $H2M_RC"
  [ "$N_READ" -ge 4 ] && [ "$H2M_RC" = 0 ]
}

s_setcap() {
  main || { EV="main adapter not ready"; return 1; }
  EV="getcap: $(getcap "$KT/caps/hci2mqtt" | cut -d' ' -f2-); "
  readings_then_term setcap caps 4 60 $(run_args)
  EV+="$N_READ readings in $WAIT_S s as $TEST_USER; SIGTERM exit $H2M_RC"
  [ "$N_READ" -ge 4 ] && [ "$H2M_RC" = 0 ]
}

s_nocap() {
  main || { EV="main adapter not ready"; return 1; }
  local want=${EXPECT_NOCAP_EXIT:-77}   # README: 77 = a capability is missing
  # Which capability is missing first depends on the adapter: DOWN needs CAP_NET_ADMIN to
  # come up, UP needs CAP_NET_RAW for the LE Meta filter; both must name setcap.
  local state; state=$(hciconfig "$HCI_main" | grep -oE 'UP RUNNING|DOWN' | head -n1 || true)
  start_h2m nocap nocap $(run_args)
  wait_exit nocap 60
  local n; n=$(readings "$LOG/nocap.out")
  EV="$HCI_main $state; exit $H2M_RC (want $want), $n readings, stderr: $(last_err nocap 2)"
  [ "$H2M_RC" = "$want" ] && grep -q 'setcap' "$LOG/nocap.err"
}

s_scan() {
  main || { EV="main adapter not ready"; return 1; }
  local t0; t0=$(now)
  start_h2m scan root scan --adapter "$HCI_main" --seconds 15 --key "$MAC=$KEY"
  wait_exit scan 60
  local row; row=$(grep "^$MAC" "$LOG/scan.out" | tail -n1 || true)
  EV="exit $H2M_RC after $(since "$t0") s; row: ${row:-none}"
  [ "$H2M_RC" = 0 ] && grep -q LYWSD02MMC <<<"$row" && grep -q 'key works' <<<"$row"
}

record() {
  local ext=$1 f="$KT/rec.$1"
  rm -f "$f"
  readings_then_term "rec-$ext" root 4 60 $(run_args) --record "$f"
  # One tshark pass (each start costs ~10 s under emulation): every packet's LE Meta subevent.
  local fields all adv magic
  fields=$(tshark -r "$f" -T fields -e frame.number -e bthci_evt.le_meta_subevent 2>"$LOG/rec-$ext.tshark" || echo "tshark exit $?" >> "$LOG/rec-$ext.tshark")
  all=$(grep -c . <<<"$fields" || true)
  adv=$(awk '$2 == "0x02" || $2 == "0x0d" || $2 == "0x00000002" || $2 == "0x0000000d" || $2 == "2" || $2 == "13"' <<<"$fields" | wc -l)
  magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' ')
  cp "$f" "$LOG/" || true
  # tshark warns about running as root: not an error.
  local errs; errs=$(grep -v 'Running as user "root"' "$LOG/rec-$ext.tshark" | head -n 3 | tr '\n' '|' || true)
  EV="$N_READ readings, exit $H2M_RC; file starts $magic; tshark -r: $all packets, $adv advertising reports (LE Meta 0x02/0x0d)${errs:+; tshark stderr: $errs}"
  [ "$N_READ" -ge 4 ] && [ "$H2M_RC" = 0 ] && [ "$adv" -ge 1 ] && [ -z "$errs" ]
}
s_record-pcapng() { main || { EV="main adapter not ready"; return 1; }; record pcapng; }
s_record-btsnoop() { main || { EV="main adapter not ready"; return 1; }; record btsnoop; }

s_signals() {
  main || { EV="main adapter not ready"; return 1; }
  start_h2m signals root $(run_args)
  wait_readings signals 2 60 || true
  local before; before=$(readings "$LOG/signals.out")
  kill -HUP "$(cat "$KT/signals.pid")"
  wait_readings signals $(( before + 4 )) 30 || true
  local after alive=no; after=$(readings "$LOG/signals.out")
  h2m_alive signals && alive=yes
  local hup; hup=$(grep -m1 'SIGHUP' "$LOG/signals.err" || true)
  stop_h2m signals
  EV="$before readings before SIGHUP, $(( after - before )) after, alive after SIGHUP: $alive ('${hup:-no SIGHUP line}'); SIGTERM exit $H2M_RC"
  [ "$before" -ge 2 ] && [ $(( after - before )) -ge 4 ] && [ "$alive" = yes ] && [ "$H2M_RC" = 0 ]
}

# An event on the controller while we run; readings must resume within 30 s.
# controller_event TAG WHAT [CONFIG]: WHAT = a control command of vhci_sensor.py, or
# "hciconfig-reset" (another process resets the adapter: HCIDEVRESET).
controller_event() {
  local tag=$1 what=$2 cfg=${3:-}
  start_h2m "$tag" root $(run_args) ${cfg:+--config "$cfg"}
  wait_readings "$tag" 2 60 || true
  local before from; before=$(readings "$LOG/$tag.out"); from=$(status_lines main)
  local t0; t0=$(now)
  if [ "$what" = hciconfig-reset ]; then
    hciconfig "$HCI_main" reset 2>>"$LOG/$tag.err" || echo "hciconfig reset: exit $?" >> "$LOG/$tag.err"
  else
    ctl main "$what"
    wait_until 10 grep -q "did $what" "$LOG/adapter-main.status" || true
  fi
  # A hw-error makes the kernel close and reopen hci0: count from when it is down.
  [ "$what" != hw-error ] || wait_until 5 eval "! hciconfig $HCI_main | grep -q 'UP RUNNING'" || true
  # Reports already queued before the event must not count as "resumed".
  local mark; mark=$(readings "$LOG/$tag.out")
  wait_until "$(left_of "$t0" "${LIMIT:-30}")" readings_at_least "$LOG/$tag.out" $(( mark + 2 )) || true
  local dt; dt=$(since "$t0")
  local after; after=$(readings "$LOG/$tag.out")
  local alive=no; h2m_alive "$tag" && alive=yes
  local trace; trace=$(scan_trace main $(( from + 1 )))
  stop_h2m "$tag"
  EV="$before readings before $what, $(( after - mark )) in the $dt s after it (limit ${LIMIT:-30} s, alive: $alive); SIGTERM exit $H2M_RC; commands to the controller from the event until our SIGTERM: ${trace:-none}; stderr: $(last_err "$tag" 2)"
  [ "$before" -ge 2 ] && [ $(( after - mark )) -ge 2 ] && [ "$H2M_RC" = 0 ]
}
s_hw-error() { main || { EV="main adapter not ready"; return 1; }; controller_event hw-error hw-error; }
s_controller-reset() { main || { EV="main adapter not ready"; return 1; }; controller_event controller-reset controller-reset; }
# The same with [scan] watchdog_s = 10 (default 300): the watchdog alone must bring it back.
s_controller-reset-watchdog() {
  main || { EV="main adapter not ready"; return 1; }
  printf '[scan]\nwatchdog_s = 10\n' > "$KT/watchdog.toml"
  LIMIT=40 controller_event controller-reset-watchdog controller-reset "$KT/watchdog.toml"
}
s_hciconfig-reset() { main || { EV="main adapter not ready"; return 1; }; controller_event hciconfig-reset hciconfig-reset; }

# The adapter goes away (vhci process killed) and a new one registers; readings must resume
# within 30 s of its registration with nobody acting.
replug() {
  local tag=$1 who=$2
  start_h2m "$tag" "$who" $(run_args)
  wait_readings "$tag" 2 60 || true
  local before; before=$(readings "$LOG/$tag.out")
  stop_adapter main
  local mark; mark=$(readings "$LOG/$tag.out")
  local alive_gone=no; h2m_alive "$tag" && alive_gone=yes
  start_adapter main "$MAIN_ADDR" sensor || { stop_h2m "$tag"; EV="the new adapter did not come up"; return 1; }
  local reg=$REG_main ok=1
  wait_until "$(left_of "$reg" 30)" readings_at_least "$LOG/$tag.out" $(( mark + 2 )) || ok=0
  local dt; dt=$(since "$reg")
  local after; after=$(readings "$LOG/$tag.out")
  local state; state=$(hciconfig "$HCI_main" | grep -oE 'UP RUNNING|DOWN' | head -n1 || true)
  local trace; trace=$(scan_trace main)
  stop_h2m "$tag"
  EV="$before readings before, alive while gone: $alive_gone; new $HCI_main registered, $(( after - mark )) readings $dt s after its registration (limit 30 s), $HCI_main $state; SIGTERM exit $H2M_RC; reset/scan commands to the new one before our SIGTERM: ${trace:-none}; stderr: $(last_err "$tag" 2)"
  [ "$before" -ge 2 ] && [ "$ok" = 1 ] && [ "$H2M_RC" = 0 ]
}
s_replug-root() { main || { EV="main adapter not ready"; return 1; }; replug replug-root root; }
s_replug-setcap() { main || { EV="main adapter not ready"; return 1; }; replug replug-setcap caps; }

s_two-adapters() {
  main || { EV="main adapter not ready"; return 1; }
  ensure_adapter other "$OTHER_ADDR" || { EV="second adapter not ready"; return 1; }
  # 1. Chosen by the MAC of the adapter that hears the sensor: readings, and only it was told
  #    to scan.
  local m0 o0; m0=$(status_lines main); o0=$(status_lines other)
  readings_then_term two-main root 4 60 run --adapter "$MAIN_ADDR" --key "$MAC=$KEY"
  local n1=$N_READ rc1=$H2M_RC se_m1 se_o1
  se_m1=$(scan_enables main $(( m0 + 1 ))); se_o1=$(scan_enables other $(( o0 + 1 )))
  # 2. Chosen by the MAC of the other one (no sensor on its link): it scans, the first not.
  m0=$(status_lines main); o0=$(status_lines other)
  start_h2m two-other root run --adapter "$OTHER_ADDR" --key "$MAC=$KEY"
  wait_until 60 eval "[ \$(scan_enables other $(( o0 + 1 ))) -ge 1 ]" || true
  stop_h2m two-other
  local rc2=$H2M_RC n2 se_m2 se_o2
  n2=$(readings "$LOG/two-other.out")
  se_m2=$(scan_enables main $(( m0 + 1 ))); se_o2=$(scan_enables other $(( o0 + 1 )))
  stop_adapter other
  EV="$HCI_main=$MAIN_ADDR (sensor), $HCI_other=$OTHER_ADDR; --adapter $MAIN_ADDR: $n1 readings, scan enables main $se_m1 / other $se_o1, exit $rc1; --adapter $OTHER_ADDR: $n2 readings, scan enables main $se_m2 / other $se_o2, exit $rc2"
  [ "$n1" -ge 4 ] && [ "$se_m1" -ge 1 ] && [ "$se_o1" = 0 ] && [ "$rc1" = 0 ] &&
    [ "$n2" = 0 ] && [ "$se_o2" -ge 1 ] && [ "$se_m2" = 0 ] && [ "$rc2" = 0 ]
}

# bluetoothd idle: we scan and exit; then its discovery finds a device that starts
# advertising afterwards.
s_bt-idle() {
  main || { EV="main adapter not ready"; return 1; }
  start_bluetoothd
  local from; from=$(status_lines main)
  readings_then_term bt-idle root 4 60 $(run_args)
  local n=$N_READ rc=$H2M_RC new=C0:FF:EE:00:01:01
  btctl_start bt-idle
  btctl scan on
  wait_until 30 bt_discovering || true
  local disc=no; bt_discovering && disc=yes
  local t0; t0=$(now)
  ctl main advertise "$new" kt-idle
  local found=no; wait_until 40 btctl_has "NEW.*Device $new" && found=yes
  local dt; dt=$(since "$t0")
  stop_bluetoothd
  EV="$n readings with bluetoothd idle, exit $rc; then scan on: discovering $disc, new device $new found: $found (${dt} s); scan commands: $(scan_trace main $(( from + 1 )))"
  [ "$n" -ge 4 ] && [ "$rc" = 0 ] && [ "$found" = yes ]
}

# bluetoothd discovering: we start, get readings, exit; its discovery still finds a device
# that starts advertising after our exit.
s_bt-discovering() {
  main || { EV="main adapter not ready"; return 1; }
  start_bluetoothd
  local new=C0:FF:EE:00:01:02
  local from; from=$(status_lines main)
  btctl_start bt-disc
  btctl scan on
  local seen=no; wait_until 60 btctl_has "Device $MAC" && seen=yes
  readings_then_term bt-disc root 4 60 $(run_args)
  local n=$N_READ rc=$H2M_RC disc=no
  bt_discovering && disc=yes
  local t0; t0=$(now)
  ctl main advertise "$new" kt-disc
  local found=no; wait_until 40 btctl_has "NEW.*Device $new" && found=yes
  local dt; dt=$(since "$t0")
  stop_bluetoothd
  EV="bluetoothd discovering (sensor seen by it: $seen); $n readings in $WAIT_S s, exit $rc; after our exit Discovering: $disc, new device $new found: $found (${dt} s); scan commands (bluetoothd's, ours): $(scan_trace main $(( from + 1 )))"
  [ "$seen" = yes ] && [ "$n" -ge 4 ] && [ "$rc" = 0 ] && [ "$found" = yes ]
}

s_listen-only() {
  main || { EV="main adapter not ready"; return 1; }
  start_bluetoothd
  local from; from=$(status_lines main)
  btctl_start listen-only
  btctl scan on
  local seen=no; wait_until 60 btctl_has "Device $MAC" && seen=yes
  readings_then_term listen-only root 4 60 $(run_args) --listen-only
  local disc=no; bt_discovering && disc=yes
  stop_bluetoothd
  EV="bluetoothd discovering (sensor seen by it: $seen); --listen-only: $N_READ readings in $WAIT_S s, exit $H2M_RC; Discovering after: $disc; scan commands: $(scan_trace main $(( from + 1 )))"
  [ "$seen" = yes ] && [ "$N_READ" -ge 4 ] && [ "$H2M_RC" = 0 ]
}

# ---- driver ----
results=${KVM_OUT:-/tmp}/results
: > "$results"
kt_init
echo "guest: $(uname -r), $(nproc) CPUs, binary $BIN" >&2
list=${KERNEL_SCENARIOS:-$SCENARIOS}
fails=0
for name in $list; do
  if ! declare -F "s_$name" >/dev/null; then
    echo "FAIL $name: no such scenario (known: $(echo $SCENARIOS))" | tee -a "$results"; fails=$((fails + 1)); continue
  fi
  EV=""
  t0=$(now)
  echo "== $name" >&2
  if "s_$name"; then r=PASS; else r=FAIL; fails=$((fails + 1)); fi
  # Whatever a scenario left behind must not leak into the next one.
  stop_bluetoothd 2>/dev/null || true
  echo "$r $name ($(since "$t0") s): $EV" | tee -a "$results"
done
echo "done: $fails failed" >> "$results"
[ "$fails" -eq 0 ]
