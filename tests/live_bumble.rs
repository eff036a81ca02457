//! End to end against Bumble's virtual controller (PyPI `bumble==0.0.236`, an independent
//! controller implementation), over H4/TCP.
//!
//! `tests/bumble/virtual_controllers.py` runs two Bumble controllers on one LocalLink: a sensor
//! advertising real MiBeacon v5 encrypted frames (LYWSD02MMC vectors copied verbatim into
//! `tests/data/vectors/live-bumble.jsonl`, alternating humidity / temperature frames), and a
//! scanner exposed as a TCP server. `hci2mqtt run --adapter tcp:127.0.0.1:PORT` does the whole
//! scan setup (Reset, masks, parameters, enable) against it and must print the decoded readings.
//!
//! Needs the venv: `scripts/setup-bumble` (or set BUMBLE_PYTHON to a python with bumble).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as J;

struct Vector {
    mac: String,
    key: String,
    frame: String,
    /// (field, value) the frame decodes to.
    expect: (String, f64),
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/vectors/live-bumble.jsonl"
    ))
    .expect("vectors");
    text.lines()
        .map(|l| {
            let v: J = serde_json::from_str(l).expect("json");
            let exp = v["expected"].as_object().expect("expected");
            let (k, val) = exp
                .iter()
                .find(|(k, _)| *k != "signal_strength")
                .expect("a measurement");
            Vector {
                mac: v["mac"].as_str().unwrap().to_string(),
                key: v["key_hex"].as_str().unwrap().to_string(),
                frame: v["service_data_hex"].as_str().unwrap().to_string(),
                expect: (k.clone(), val.as_f64().unwrap()),
            }
        })
        .collect()
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("BUMBLE_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-bumble/bin/python");
    if !p.exists() {
        panic!(
            "Bumble is not installed: run `scripts/setup-bumble` (creates .venv-bumble with bumble==0.0.236) \
             or set BUMBLE_PYTHON to a python that has it"
        );
    }
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines of a child's pipe, as a channel (and optionally kept in a shared log).
fn lines<R: std::io::Read + Send + 'static>(
    r: R,
    log: Option<Arc<Mutex<String>>>,
) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if let Some(l) = &log {
                let mut g = l.lock().unwrap();
                g.push_str(&line);
                g.push('\n');
            }
            if tx.send(line).is_err() {
                // Nobody listens: keep draining so the child never blocks.
                continue;
            }
        }
    });
    rx
}

struct Bumble {
    child: Child,
}

impl Bumble {
    fn start(port: u16, vs: &[Vector], extra: &[&str]) -> Bumble {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/bumble/virtual_controllers.py"
        );
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .args(["--port", &port.to_string(), "--mac", &vs[0].mac]);
        for v in vs {
            cmd.args(["--frame", &v.frame]);
        }
        cmd.args(["--switch-every", "0.5"]).args(extra);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python");
        let out = lines(child.stdout.take().unwrap(), None);
        match out.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l.starts_with("READY") => {}
            other => {
                let _ = child.kill();
                panic!("Bumble helper did not start: {other:?}");
            }
        }
        Bumble { child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bumble {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Run {
    child: Child,
    out: Receiver<String>,
    err: Arc<Mutex<String>>,
}

impl Run {
    fn start(args: &[&str]) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hci2mqtt");
        let err = Arc::new(Mutex::new(String::new()));
        lines(child.stderr.take().unwrap(), Some(err.clone()));
        let out = lines(child.stdout.take().unwrap(), None);
        Run { child, out, err }
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Collects JSON readings until `done` holds or the timeout passes.
    fn readings_until(&self, timeout: Duration, mut done: impl FnMut(&[J]) -> bool) -> Vec<J> {
        let end = Instant::now() + timeout;
        let mut v = Vec::new();
        while !done(&v) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Ok(l) = self.out.recv_timeout(left.min(Duration::from_millis(200))) {
                v.push(serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")));
            }
        }
        v
    }

    fn wait_stderr(&self, needle: &str, count: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.stderr().matches(needle).count() >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// SIGTERM; returns (exit code, time to exit).
    fn terminate(&mut self) -> (Option<i32>, Duration) {
        let t0 = Instant::now();
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (st.code(), t0.elapsed());
            }
            if t0.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                return (None, t0.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both expected readings of the vectors appear among `rs` for the sensor.
fn has_all(rs: &[J], vs: &[Vector]) -> bool {
    vs.iter().all(|v| {
        rs.iter().any(|r| {
            r["mac"] == v.mac.as_str()
                && r["format"] == "mibeacon-v5-encrypted"
                && r["model"] == "LYWSD02MMC"
                && r[&v.expect.0]
                    .as_f64()
                    .is_some_and(|x| (x - v.expect.1).abs() < 1e-6)
        })
    })
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hci2mqtt-live-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// (sent, received) packets of a btsnoop record.
fn read_record(p: &Path) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut r = hci2mqtt::capture::open(p).expect("open record");
    let (mut sent, mut recv) = (Vec::new(), Vec::new());
    while let Some(pkt) = r.next_packet() {
        let pkt = pkt.expect("record readable");
        if pkt.received {
            recv.push(pkt.data.to_vec());
        } else {
            sent.push(pkt.data.to_vec());
        }
    }
    (sent, recv)
}

fn opcode(cmd: &[u8]) -> u16 {
    u16::from_le_bytes([cmd[1], cmd[2]])
}

/// Command Complete for `op` with status 0.
fn completed_ok(recv: &[Vec<u8>], op: u16) -> usize {
    recv.iter()
        .filter(|e| {
            e.len() >= 7 && e[1] == 0x0E && u16::from_le_bytes([e[4], e[5]]) == op && e[6] == 0
        })
        .count()
}

fn reports_from(recv: &[Vec<u8>], mac: &str) -> usize {
    let a = hci2mqtt_core::addr::Addr::parse(mac).unwrap().to_le();
    recv.iter()
        .filter(|e| e.len() > 12 && e[1] == 0x3E && e.windows(6).any(|w| w == a))
        .count()
}

#[test]
fn scans_decodes_survives_a_controller_restart_and_stops_cleanly() {
    let vs = vectors();
    assert_eq!(vs.len(), 2);
    let port = free_port();
    let mut bumble = Bumble::start(port, &vs, &[]);
    let rec = tmp("e2e.btsnoop");
    let adapter = format!("tcp:127.0.0.1:{port}");
    let key = format!("{}={}", vs[0].mac, vs[0].key);
    let mut run = Run::start(&[
        "run",
        "--adapter",
        &adapter,
        "--key",
        &key,
        "--record",
        rec.to_str().unwrap(),
    ]);

    // 1. Scan setup completes and decoded readings arrive, with both values.
    assert!(
        run.wait_stderr("scanning (", 1, Duration::from_secs(20)),
        "no scan setup: {}",
        run.stderr()
    );
    let rs = run.readings_until(Duration::from_secs(20), |rs| has_all(rs, &vs));
    assert!(
        has_all(&rs, &vs),
        "readings before restart: {rs:?}\nstderr: {}",
        run.stderr()
    );

    // 2. Kill the controller side, restart it on the same port: hci2mqtt reconnects, sets the
    //    scan up again, and readings resume.
    bumble.kill();
    assert!(
        run.wait_stderr("retrying", 1, Duration::from_secs(10)),
        "loss not noticed: {}",
        run.stderr()
    );
    // Drain what was printed before the restart.
    while run.out.try_recv().is_ok() {}
    std::thread::sleep(Duration::from_millis(700));
    let _bumble2 = Bumble::start(port, &vs, &[]);
    let restarted = Instant::now();
    assert!(
        run.wait_stderr("connected again", 1, Duration::from_secs(40)),
        "no reconnect: {}",
        run.stderr()
    );
    assert!(
        run.wait_stderr("scanning (", 2, Duration::from_secs(20)),
        "no second scan setup: {}",
        run.stderr()
    );
    eprintln!(
        "controller back -> scanning again: {:?} (reconnect backoff)",
        restarted.elapsed()
    );
    let rs = run.readings_until(Duration::from_secs(20), |rs| has_all(rs, &vs));
    assert!(
        has_all(&rs, &vs),
        "readings after restart: {rs:?}\nstderr: {}",
        run.stderr()
    );

    // 3. SIGTERM: scan disabled, exit 0 within one second.
    let (code, took) = run.terminate();
    assert_eq!(code, Some(0), "stderr: {}", run.stderr());
    assert!(took < Duration::from_secs(1), "exit took {took:?}");
    eprintln!("SIGTERM to exit: {took:?}");

    // 4. The record: two complete scan setups, the reports, the final disable.
    let (sent, recv) = read_record(&rec);
    let ops: Vec<u16> = sent.iter().map(|c| opcode(c)).collect();
    let setup = [0x0C03, 0x1002, 0x2003, 0x0C01, 0x2001];
    for op in setup {
        assert_eq!(
            ops.iter().filter(|o| **o == op).count(),
            2,
            "{op:04x} sent once per connection: {ops:04x?}"
        );
        assert_eq!(
            completed_ok(&recv, op),
            2,
            "{op:04x} completed once per connection"
        );
    }
    // Bumble 0.0.236 does not list the extended scan commands in its supported commands, so the
    // kernel's rule picks legacy scanning; it still reports through subevent 0x0D.
    let enables: Vec<&Vec<u8>> = sent
        .iter()
        .filter(|c| opcode(c) == 0x200C || opcode(c) == 0x2042)
        .collect();
    assert!(enables.len() >= 3, "{enables:02x?}");
    let last = sent.last().expect("commands");
    assert!(
        opcode(last) == 0x200C || opcode(last) == 0x2042,
        "last command is a scan enable/disable: {last:02x?}"
    );
    assert_eq!(last[4], 0x00, "the last command disables the scan");
    assert_eq!(last[5], 0x00, "duplicate filtering off");
    assert_eq!(enables[0][5], 0x00, "controller duplicate filtering is off");
    assert!(
        completed_ok(&recv, opcode(last)) >= 3,
        "the disable was confirmed"
    );
    let n = reports_from(&recv, &vs[0].mac);
    assert!(n >= 10, "reports from the sensor in the record: {n}");
    let ext = recv
        .iter()
        .filter(|e| e.len() > 3 && e[1] == 0x3E && e[3] == 0x0D)
        .count();
    eprintln!(
        "record: {} commands, {} events, {n} reports from the sensor ({ext} as subevent 0x0D)",
        sent.len(),
        recv.len()
    );
    // An independent reader: Wireshark's dissector must see the same commands and reports.
    match Command::new("tshark")
        .args([
            "-r",
            rec.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "bthci_cmd.opcode",
        ])
        .output()
    {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let ops: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
            assert_eq!(ops.len(), sent.len(), "tshark sees every command: {ops:?}");
            for op in [
                "0x0c03", "0x1002", "0x2003", "0x0c01", "0x2001", "0x200b", "0x200c",
            ] {
                assert!(ops.contains(&op), "{op} in {ops:?}");
            }
            let o = Command::new("tshark")
                .args([
                    "-r",
                    rec.to_str().unwrap(),
                    "-Y",
                    "bthci_evt.le_meta_subevent == 0x0d",
                ])
                .output()
                .unwrap();
            let lines = String::from_utf8_lossy(&o.stdout).lines().count();
            assert_eq!(lines, ext, "tshark counts the same 0x0D reports");
        }
        _ => eprintln!("tshark not available: record checked with the built-in reader only"),
    }
    let _ = std::fs::remove_file(&rec);
}

#[test]
fn watchdog_sets_the_scan_up_again_when_reports_stop() {
    let vs = vectors();
    let port = free_port();
    let _bumble = Bumble::start(port, &vs, &["--silence-after", "2"]);
    let cfg = tmp("watchdog.toml");
    std::fs::write(
        &cfg,
        format!("[scan]\nadapter = \"tcp:127.0.0.1:{port}\"\nwatchdog_s = 2\n"),
    )
    .unwrap();
    let key = format!("{}={}", vs[0].mac, vs[0].key);
    let mut run = Run::start(&["run", "--config", cfg.to_str().unwrap(), "--key", &key]);
    assert!(
        run.wait_stderr("scanning (", 1, Duration::from_secs(20)),
        "{}",
        run.stderr()
    );
    assert!(
        run.wait_stderr("no advertising report for 2 s", 1, Duration::from_secs(15)),
        "watchdog did not fire: {}",
        run.stderr()
    );
    assert!(
        run.wait_stderr("scanning (", 2, Duration::from_secs(10)),
        "no new setup: {}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("connected again"),
        "the watchdog must not need a reconnect"
    );
    let (code, took) = run.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn sigterm_while_the_controller_is_unreachable_exits_promptly() {
    // Nothing listens on this port: the loop keeps retrying and must still stop at once.
    let port = free_port();
    let adapter = format!("tcp:127.0.0.1:{port}");
    let mut run = Run::start(&["run", "--adapter", &adapter]);
    assert!(
        run.wait_stderr("retrying", 1, Duration::from_secs(10)),
        "{}",
        run.stderr()
    );
    std::thread::sleep(Duration::from_millis(1500));
    // Logged once, not once per retry.
    assert_eq!(
        run.stderr().matches("retrying").count(),
        1,
        "{}",
        run.stderr()
    );
    let (code, took) = run.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn scan_table_identifies_the_sensor_and_its_key_state() {
    let vs = vectors();
    let port = free_port();
    let _bumble = Bumble::start(port, &vs, &[]);
    let adapter = format!("tcp:127.0.0.1:{port}");
    let key = format!("{}={}", vs[0].mac, vs[0].key);
    let wrong = format!("{}=00112233445566778899aabbccddeeff", vs[0].mac);
    for (args, state) in [
        (vec![], "encrypted: needs a key"),
        (vec!["--key", key.as_str()], "encrypted: key works"),
        (vec!["--key", wrong.as_str()], "encrypted: WRONG KEY"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
            .args(["scan", "--adapter", &adapter, "--seconds", "2.5"])
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let table = String::from_utf8_lossy(&out.stdout);
        let row = table
            .lines()
            .find(|l| l.starts_with(&vs[0].mac))
            .unwrap_or_else(|| panic!("no row: {table}"));
        assert!(row.contains("mibeacon-v5-encrypted"), "{row}");
        // The model comes from a decoded frame or the needs-a-key notice; a wrong key gives
        // neither (the pipeline reports no model with a decrypt failure).
        if !state.contains("WRONG") {
            assert!(row.contains("LYWSD02MMC"), "{row}");
        }
        assert!(row.contains(" -50 "), "Bumble's RSSI: {row}");
        assert!(row.contains(state), "{args:?}: {row}");
        if state.ends_with("key works") {
            assert!(
                row.contains("humidity=38") || row.contains("temperature=26.1"),
                "{row}"
            );
        }
    }
}

#[test]
fn extended_scan_commands_work_against_bumble() {
    // Bumble 0.0.236 implements LE Set Extended Scan Parameters/Enable without listing them in
    // its supported commands; --extended uses them anyway. Exercises 0x2041/0x2042 encodings
    // against an independent implementation, and the 0x0D report path end to end.
    let vs = vectors();
    let port = free_port();
    let _bumble = Bumble::start(port, &vs, &[]);
    // Recorded as pcapng (chosen by the extension): the checks below read it back, tshark too.
    let rec = tmp("ext.pcapng");
    let adapter = format!("tcp:127.0.0.1:{port}");
    let key = format!("{}={}", vs[0].mac, vs[0].key);
    let mut run = Run::start(&[
        "run",
        "--adapter",
        &adapter,
        "--key",
        &key,
        "--extended",
        "--active",
        "--record",
        rec.to_str().unwrap(),
    ]);
    assert!(
        run.wait_stderr(
            "scanning (extended scan commands, active)",
            1,
            Duration::from_secs(20)
        ),
        "{}",
        run.stderr()
    );
    let rs = run.readings_until(Duration::from_secs(20), |rs| has_all(rs, &vs));
    assert!(has_all(&rs, &vs), "{rs:?}");
    let (code, took) = run.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(1), "{took:?}");
    let (sent, recv) = read_record(&rec);
    let ops: Vec<u16> = sent.iter().map(|c| opcode(c)).collect();
    assert!(
        !ops.contains(&0x200B) && !ops.contains(&0x200C),
        "no legacy scan command: {ops:04x?}"
    );
    let params = sent
        .iter()
        .find(|c| opcode(c) == 0x2041)
        .expect("ext params sent");
    assert_eq!(
        params[4..],
        [0x00, 0x00, 0x01, 0x01, 0x10, 0x00, 0x10, 0x00],
        "own addr, policy, 1M, active, 10 ms/10 ms"
    );
    assert_eq!(completed_ok(&recv, 0x2041), 1);
    assert_eq!(
        completed_ok(&recv, 0x2042),
        2,
        "enable and the final disable"
    );
    let last = sent.last().unwrap();
    assert_eq!(
        last[..],
        [0x01, 0x42, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
    );
    // Wireshark reads what `run --record x.pcapng` wrote: every packet, with its direction.
    let out = Command::new("tshark")
        .args([
            "-r",
            rec.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "hci_h4.direction",
            "-e",
            "hci_h4.type",
        ])
        .output()
        .expect("tshark is required for this test (apt-get install tshark)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), sent.len() + recv.len(), "{lines:?}");
    let sent_by_tshark = lines
        .iter()
        // direction 0x00 = sent (host → controller), H4 type 0x01 = command.
        .filter(|l| l.as_str() == "0x00\t0x01")
        .count();
    assert_eq!(
        sent_by_tshark,
        sent.len(),
        "commands host→controller: {lines:?}"
    );
    let _ = std::fs::remove_file(&rec);
}

#[test]
fn sighup_reloads_keys_from_the_config() {
    let vs = vectors();
    let port = free_port();
    let _bumble = Bumble::start(port, &vs, &[]);
    let cfg = tmp("reload.toml");
    let base = format!("[scan]\nadapter = \"tcp:127.0.0.1:{port}\"\n");
    std::fs::write(&cfg, &base).unwrap();
    let run = Run::start(&["run", "--config", cfg.to_str().unwrap()]);
    // No key yet: the sensor is reported as needing one, nothing decodes.
    assert!(
        run.wait_stderr("configure its key", 1, Duration::from_secs(20)),
        "{}",
        run.stderr()
    );
    let rs = run.readings_until(Duration::from_millis(1500), |_| false);
    assert!(rs.is_empty(), "{rs:?}");
    std::fs::write(
        &cfg,
        format!(
            "{base}\n[[sensor]]\nmac = \"{}\"\nkey = \"{}\"\n",
            vs[0].mac, vs[0].key
        ),
    )
    .unwrap();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(run.child.id() as i32, libc::SIGHUP) };
    assert!(
        run.wait_stderr("reloaded 1 key(s)", 1, Duration::from_secs(5)),
        "{}",
        run.stderr()
    );
    let rs = run.readings_until(Duration::from_secs(20), |rs| has_all(rs, &vs));
    assert!(has_all(&rs, &vs), "{rs:?}");
}

#[test]
fn a_scan_left_running_by_a_crashed_run_is_taken_over() {
    // Run 1 starts scanning and is killed (SIGKILL: no disable). Bumble's controller keeps
    // scanning. Run 2, without HCI Reset (as on a shared adapter), gets Command Disallowed for
    // its scan parameters (Bumble refuses them while scanning, like real controllers), disables
    // the scan, sets the parameters again and enables it.
    let vs = vectors();
    let port = free_port();
    let _bumble = Bumble::start(port, &vs, &[]);
    let cfg = tmp("takeover.toml");
    std::fs::write(
        &cfg,
        format!("[scan]\nadapter = \"tcp:127.0.0.1:{port}\"\nreset = false\n"),
    )
    .unwrap();
    let key = format!("{}={}", vs[0].mac, vs[0].key);
    let mut run1 = Run::start(&["run", "--config", cfg.to_str().unwrap(), "--key", &key]);
    assert!(
        run1.wait_stderr("scanning (", 1, Duration::from_secs(20)),
        "{}",
        run1.stderr()
    );
    let _ = run1.child.kill();
    let _ = run1.child.wait();
    let rec = tmp("takeover.btsnoop");
    let mut run2 = Run::start(&[
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--key",
        &key,
        "--record",
        rec.to_str().unwrap(),
    ]);
    assert!(
        run2.wait_stderr("scanning (", 1, Duration::from_secs(20)),
        "{}",
        run2.stderr()
    );
    let rs = run2.readings_until(Duration::from_secs(20), |rs| has_all(rs, &vs));
    assert!(has_all(&rs, &vs), "{rs:?}");
    let (code, _) = run2.terminate();
    assert_eq!(code, Some(0));
    let (sent, recv) = read_record(&rec);
    let ops: Vec<(u16, Option<u8>)> = sent
        .iter()
        .map(|c| (opcode(c), c.get(4).copied()))
        .collect();
    assert!(
        !ops.iter().any(|(o, _)| *o == 0x0C03),
        "no reset: {ops:04x?}"
    );
    let scan_ops: Vec<(u16, Option<u8>)> = ops
        .iter()
        .copied()
        .filter(|(o, _)| *o == 0x200B || *o == 0x200C)
        .collect();
    assert_eq!(
        scan_ops[..4],
        [
            (0x200B, Some(0x00)),
            (0x200C, Some(0x00)),
            (0x200B, Some(0x00)),
            (0x200C, Some(0x01))
        ],
        "params (refused), disable, params, enable: {scan_ops:04x?}"
    );
    let disallowed = recv
        .iter()
        .filter(|e| {
            e.len() >= 7
                && e[1] == 0x0E
                && u16::from_le_bytes([e[4], e[5]]) == 0x200B
                && e[6] == 0x0C
        })
        .count();
    assert_eq!(
        disallowed, 1,
        "Bumble answered the first parameters with Command Disallowed"
    );
    assert_eq!(completed_ok(&recv, 0x200B), 1);
    let _ = std::fs::remove_file(&rec);
}

#[test]
fn listen_only_sends_nothing_and_still_decodes() {
    // Another program (here: a first run, killed) keeps the controller scanning; a listen-only
    // run must not send a single command and still decode what arrives.
    let vs = vectors();
    let port = free_port();
    let _bumble = Bumble::start(port, &vs, &[]);
    let adapter = format!("tcp:127.0.0.1:{port}");
    let key = format!("{}={}", vs[0].mac, vs[0].key);
    let mut run1 = Run::start(&["run", "--adapter", &adapter, "--key", &key]);
    assert!(
        run1.wait_stderr("scanning (", 1, Duration::from_secs(20)),
        "{}",
        run1.stderr()
    );
    let _ = run1.child.kill();
    let _ = run1.child.wait();
    let rec = tmp("listen.btsnoop");
    let mut run2 = Run::start(&[
        "run",
        "--adapter",
        &adapter,
        "--key",
        &key,
        "--listen-only",
        "--record",
        rec.to_str().unwrap(),
    ]);
    let rs = run2.readings_until(Duration::from_secs(20), |rs| has_all(rs, &vs));
    assert!(has_all(&rs, &vs), "{rs:?}\n{}", run2.stderr());
    let (code, took) = run2.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(1));
    let (sent, recv) = read_record(&rec);
    assert!(sent.is_empty(), "listen-only sent {sent:02x?}");
    assert!(reports_from(&recv, &vs[0].mac) > 0);
    let _ = std::fs::remove_file(&rec);
}
