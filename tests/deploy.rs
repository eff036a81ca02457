//! The deployment kit in `deploy/`: the systemd unit passes `systemd-analyze verify`,
//! `install.sh` installs the right files with the right modes into a temporary root, and
//! `hci2mqtt-loop` restarts a failing command with a doubling, capped, resetting backoff and
//! stops cleanly on SIGTERM. Skips say why on stderr; they never pass silently as a check.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hci2mqtt");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hci2mqtt-deploy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn is_root() -> bool {
    // SAFETY: no arguments, no memory.
    unsafe { libc::geteuid() == 0 }
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs a Debian package when `tool` is missing and that is possible (root, apt-get).
/// Serialised: the tests run in parallel and dpkg takes one lock.
fn apt_install_for(tool: &str, package: &str) {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = APT.lock().unwrap_or_else(|e| e.into_inner());
    if !have(tool) && is_root() && have("apt-get") {
        eprintln!("deploy: installing {package} for {tool}");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status();
    }
}

/// `systemd-analyze`, installed with apt when missing and possible; `None` with the reason printed.
fn systemd_analyze() -> Option<&'static str> {
    apt_install_for("systemd-analyze", "systemd");
    if have("systemd-analyze") {
        Some("systemd-analyze")
    } else {
        eprintln!("SKIP systemd-analyze verify: systemd-analyze is not installed and could not be installed (not root or no apt-get)");
        None
    }
}

/// Runs `systemd-analyze verify` on `unit` after pointing ExecStart at `exe` (verify checks that
/// the command exists). Returns (success, all output).
fn verify(unit_text: &str, exe: &Path, dir: &Path) -> Option<(bool, String)> {
    let sa = systemd_analyze()?;
    let unit = dir.join("hci2mqtt.service");
    let t = unit_text.replace(
        "ExecStart=/usr/local/bin/hci2mqtt ",
        &format!("ExecStart={} ", exe.display()),
    );
    assert_ne!(t, unit_text, "ExecStart line not found");
    std::fs::write(&unit, t).unwrap();
    let o = Command::new(sa).arg("verify").arg(&unit).output().unwrap();
    Some((o.status.success(), text(&o.stdout) + &text(&o.stderr)))
}

#[test]
fn systemd_unit_verifies_clean() {
    let unit = std::fs::read_to_string(repo().join("deploy/hci2mqtt.service")).unwrap();
    for needed in [
        "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN",
        "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN",
        "RestrictAddressFamilies=AF_BLUETOOTH AF_INET AF_INET6 AF_UNIX",
        "ProtectSystem=strict",
        "Restart=on-failure",
        "User=hci2mqtt",
    ] {
        assert!(unit.lines().any(|l| l == needed), "unit lacks {needed}");
    }
    // AF_BLUETOOTH exists only in the initial network namespace; capabilities are checked in the
    // initial user namespace.
    for forbidden in ["PrivateNetwork=yes", "PrivateUsers=yes"] {
        assert!(
            !unit.lines().any(|l| l == forbidden),
            "unit must not set {forbidden}"
        );
    }
    let dir = tmpdir("verify");
    let Some((ok, out)) = verify(&unit, Path::new(BIN), &dir) else {
        return;
    };
    assert!(ok && out.trim().is_empty(), "systemd-analyze verify: {out}");
    // The check can fail: an unknown key and a missing binary are reported.
    let bad = unit.replace("Restart=on-failure", "Restart=on-failure\nRestartBogus=1");
    let (_, out) = verify(&bad, Path::new(BIN), &dir).unwrap();
    assert!(
        out.contains("RestartBogus"),
        "verify missed an unknown key: {out}"
    );
    let (ok, out) = verify(&unit, &dir.join("no-such-binary"), &dir).unwrap();
    assert!(
        !ok && out.contains("no-such-binary"),
        "verify missed a missing binary: {out}"
    );
}

fn install(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(repo().join("deploy/install.sh"));
    c.args(args).current_dir(std::env::temp_dir());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "install.sh {args:?} failed: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

#[test]
fn install_into_temporary_root() {
    let root = tmpdir("root");
    let r = root.to_str().unwrap();
    let o = install(&["--root", r, "--bin", BIN], &[]);
    let out = text(&o.stdout);

    let bin = root.join("usr/local/bin/hci2mqtt");
    assert_eq!(std::fs::read(&bin).unwrap(), std::fs::read(BIN).unwrap());
    assert_eq!(mode(&bin), 0o755);
    assert_eq!(mode(&root.join("usr/local/bin/hci2mqtt-loop")), 0o755);
    let conf = root.join("etc/hci2mqtt.toml");
    assert_eq!(mode(&conf), 0o600, "config must be 0600");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        std::fs::read_to_string(repo().join("hci2mqtt.example.toml")).unwrap()
    );
    let unit = root.join("etc/systemd/system/hci2mqtt.service");
    assert_eq!(mode(&unit), 0o644);
    assert_eq!(
        std::fs::read_to_string(&unit).unwrap(),
        std::fs::read_to_string(repo().join("deploy/hci2mqtt.service")).unwrap()
    );
    assert_eq!(
        mode(&root.join("usr/local/share/doc/hci2mqtt/capabilities.md")),
        0o644
    );
    assert!(
        !root.join("etc/cron.d").exists() && !root.join("etc/supervisor").exists(),
        "only one launcher"
    );
    assert!(
        out.contains("not created in"),
        "a temporary root must not get a user: {out}"
    );

    // File capabilities: set for real when root with setcap, else a clear skip message.
    if is_root() && have("setcap") && have("getcap") {
        let g = Command::new("getcap").arg(&bin).output().unwrap();
        let caps = text(&g.stdout);
        if out.contains("setcap failed") {
            eprintln!("SKIP getcap check: the temp dir's file system refused the xattr: {out}");
        } else {
            assert!(
                caps.contains("cap_net_admin,cap_net_raw=ep"),
                "getcap: {caps} / {out}"
            );
        }
    } else {
        assert!(out.contains("setcap skipped"), "{out}");
    }

    // The installed unit, pointed at the installed binary, verifies.
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    if let Some((ok, vout)) = verify(&unit_text, &bin, &tmpdir("verify-installed")) {
        assert!(ok && vout.trim().is_empty(), "{vout}");
    }

    // Idempotent, and an existing config is never overwritten (nor its mode changed).
    std::fs::write(&conf, "discover_all = false\n").unwrap();
    let o = install(&["--root", r, "--bin", BIN], &[]);
    assert!(text(&o.stdout).contains("kept existing"));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "discover_all = false\n"
    );
    assert_eq!(mode(&conf), 0o600);
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = install(&["--root", r, "--bin", BIN], &[]);
    assert!(
        text(&o.stdout).contains("readable by others"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn install_other_launchers_and_destdir() {
    let root = tmpdir("cron");
    install(
        &["--bin", BIN, "--with", "cron"],
        &[("DESTDIR", root.to_str().unwrap())],
    );
    let cron = root.join("etc/cron.d/hci2mqtt");
    assert_eq!(mode(&cron), 0o644);
    let line = std::fs::read_to_string(&cron).unwrap();
    let reboot: Vec<&str> = line.lines().filter(|l| l.starts_with("@reboot")).collect();
    assert_eq!(reboot.len(), 1, "{line}");
    // /etc/cron.d format: @reboot USER COMMAND...
    let f: Vec<&str> = reboot[0].split_whitespace().collect();
    assert_eq!(f[1], "hci2mqtt");
    assert_eq!(f.last(), Some(&"/usr/local/bin/hci2mqtt-loop"));
    assert_eq!(mode(&root.join("var/log/hci2mqtt")), 0o750);
    assert_eq!(mode(&root.join("etc/hci2mqtt.toml")), 0o600);
    assert!(!root.join("etc/systemd").exists());

    let root = tmpdir("supervisor");
    install(
        &[
            "--root",
            root.to_str().unwrap(),
            "--bin",
            BIN,
            "--with",
            "supervisor",
        ],
        &[],
    );
    let conf = std::fs::read_to_string(root.join("etc/supervisor/conf.d/hci2mqtt.conf")).unwrap();
    assert!(conf.contains("[program:hci2mqtt]"));
    assert!(conf.contains("command=/usr/local/bin/hci2mqtt run --config /etc/hci2mqtt.toml"));

    // Bad arguments fail with a message, and install nothing.
    let o = Command::new(repo().join("deploy/install.sh"))
        .args(["--with", "upstart"])
        .output()
        .unwrap();
    assert!(!o.status.success() && text(&o.stderr).contains("upstart"));
    let empty = tmpdir("nobin");
    let o = Command::new(repo().join("deploy/install.sh"))
        .args([
            "--root",
            empty.to_str().unwrap(),
            "--bin",
            "/nonexistent/hci2mqtt",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success() && text(&o.stderr).contains("no such file"));
    assert!(!empty.join("etc").exists());
}

fn loop_cmd(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut c = Command::new(repo().join("deploy/hci2mqtt-loop"));
    c.args(args);
    for k in [
        "HCI2MQTT_BACKOFF_MIN_MS",
        "HCI2MQTT_BACKOFF_MAX_MS",
        "HCI2MQTT_BACKOFF_RESET_S",
        "HCI2MQTT_LOOP_MAX_RESTARTS",
        "HCI2MQTT_LOOP_LOG",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

#[test]
fn loop_restarts_with_doubling_capped_backoff() {
    let dir = tmpdir("loop");
    let count = dir.join("runs");
    let script = format!("echo run >> {}; exit 7", count.display());
    let t0 = Instant::now();
    let o = loop_cmd(
        &[
            ("HCI2MQTT_BACKOFF_MIN_MS", "40"),
            ("HCI2MQTT_BACKOFF_MAX_MS", "100"),
            ("HCI2MQTT_LOOP_MAX_RESTARTS", "4"),
        ],
        &["sh", "-c", &script],
    )
    .output()
    .unwrap();
    let took = t0.elapsed();
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(7),
        "gives up with the command's status: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(&count).unwrap().lines().count(),
        5,
        "1 run + 4 restarts: {err}"
    );
    for (i, ms) in [(1, 40), (2, 80), (3, 100), (4, 100)] {
        // The run time is whole seconds of `date +%s`: a short run can straddle a second
        // boundary on a loaded machine, so "after 0s" or "after 1s" are both right.
        assert!(
            err.lines().any(|l| l.contains("status 7 after ")
                && (l.contains("after 0s;") || l.contains("after 1s;"))
                && l.ends_with(&format!("; restart {i} in {ms}ms"))),
            "restart {i}: {err}"
        );
    }
    assert!(took >= Duration::from_millis(320), "slept only {took:?}");

    // A run that lasted RESET_S seconds (0 here) resets the delay to the minimum.
    let o = loop_cmd(
        &[
            ("HCI2MQTT_BACKOFF_MIN_MS", "10"),
            ("HCI2MQTT_BACKOFF_RESET_S", "0"),
            ("HCI2MQTT_LOOP_MAX_RESTARTS", "3"),
        ],
        &["false"],
    )
    .output()
    .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err.matches("in 10ms").count(), 3, "{err}");
}

#[test]
fn loop_passes_sigterm_on_and_stops() {
    let dir = tmpdir("loopterm");
    let marker = dir.join("got-term");
    let log = dir.join("loop.log");
    let script = format!(
        "trap 'echo term > {}; exit 0' TERM; while :; do sleep 0.05; done",
        marker.display()
    );
    let mut child = loop_cmd(
        &[("HCI2MQTT_LOOP_LOG", log.to_str().unwrap())],
        &["sh", "-c", &script],
    )
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "loop did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().trim(),
        "term",
        "command did not get SIGTERM"
    );
    let l = std::fs::read_to_string(&log).unwrap();
    assert!(l.contains("stopped") && !l.contains("restart"), "{l}");
}

/// `supervisord`, installed with apt when missing and possible; `None` with the reason printed.
fn supervisord() -> Option<&'static str> {
    // If the package starts its own daemon, that one uses /etc/supervisor, not the private
    // config used below.
    apt_install_for("supervisord", "supervisor");
    if have("supervisord") {
        Some("supervisord")
    } else {
        eprintln!("SKIP supervisord run: supervisor is not installed and could not be installed (not root or no apt-get)");
        None
    }
}

/// Runs the shipped `[program:hci2mqtt]` section under a private supervisord with only the
/// command (a fake that exits with `code` after 0.3 s), the user (none here), the log path and
/// startsecs (0, so the short run counts as started) replaced; returns the runs seen.
fn supervise(code: i32, wait: Duration, until_runs: usize) -> Option<usize> {
    let sd = supervisord()?;
    let dir = tmpdir(&format!("supervisor-{code}"));
    let d = dir.display();
    let runs = dir.join("runs");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    let section = std::fs::read_to_string(repo().join("deploy/supervisor-hci2mqtt.conf")).unwrap();
    let mut replaced = 0;
    let section: String = section
        .lines()
        .map(|l| {
            let new = if l.starts_with("command=") {
                format!(
                    "command=sh -c 'echo run >> {}; sleep 0.3; exit {code}'",
                    runs.display()
                )
            } else if l.starts_with("user=") {
                ";user removed for the test".to_string()
            } else if l.starts_with("stdout_logfile=") {
                format!("stdout_logfile={d}/hci2mqtt.log")
            } else if l.starts_with("startsecs=") {
                "startsecs=0".to_string()
            } else {
                return l.to_string();
            };
            replaced += 1;
            new
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        replaced, 4,
        "the section lost command=, user=, stdout_logfile= or startsecs="
    );
    std::fs::write(dir.join("conf.d/hci2mqtt.conf"), section + "\n").unwrap();
    let main = format!(
        "[supervisord]\nnodaemon=true\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\n\
         [unix_http_server]\nfile={d}/sock\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{d}/sock\n\
         [include]\nfiles = {d}/conf.d/*.conf\n"
    );
    let conf = dir.join("supervisord.conf");
    std::fs::write(&conf, main).unwrap();
    let mut child = Command::new(sd)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let count = || {
        std::fs::read_to_string(&runs)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    // Until `until_runs` runs, or `wait` after the first run (supervisord itself can take
    // seconds to start on a loaded machine), at most 60 s.
    let t0 = Instant::now();
    let mut first: Option<Instant> = None;
    while t0.elapsed() < Duration::from_secs(60)
        && count() < until_runs
        && first.is_none_or(|f| f.elapsed() < wait)
    {
        if first.is_none() && count() > 0 {
            first = Some(Instant::now());
        }
        if let Some(s) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("supervisord.log")).unwrap_or_default();
            panic!("supervisord exited ({s}): {log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let n = count();
    // SAFETY: signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    Some(n)
}

#[test]
fn supervisor_section_restarts_on_failure_not_on_usage_error() {
    // Exit 1 (a runtime failure) is unexpected: restarted again and again.
    let Some(n) = supervise(1, Duration::from_secs(20), 3) else {
        return;
    };
    assert!(n >= 3, "supervisord ran the failing program only {n} times");
    // Exit 2 (a command-line error) is in exitcodes: run once, not restarted.
    let n = supervise(2, Duration::from_secs(3), usize::MAX).unwrap();
    assert_eq!(n, 1, "exit 2 must not be restarted");
    // Exit 78 (a config error) is not restarted either.
    let n = supervise(78, Duration::from_secs(3), usize::MAX).unwrap();
    assert_eq!(n, 1, "exit 78 must not be restarted");
}
