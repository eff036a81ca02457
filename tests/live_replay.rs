//! `run --adapter replay:FILE` goes through the same pipeline and stdout service as a live run
//! and must print exactly what `replay FILE` prints.

use std::process::Command;

#[test]
fn run_with_a_replay_adapter_prints_what_replay_prints() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let cap = format!("{dir}/demo/flat.btsnoop");
    let cfg = format!("{dir}/demo/flat.toml");
    let bin = env!("CARGO_BIN_EXE_hci2mqtt");
    let a = Command::new(bin)
        .args(["replay", &cap, "--config", &cfg])
        .output()
        .unwrap();
    let b = Command::new(bin)
        .args([
            "run",
            "--adapter",
            &format!("replay:{cap}"),
            "--config",
            &cfg,
        ])
        .output()
        .unwrap();
    assert!(
        a.status.success() && b.status.success(),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    let lines = a.stdout.iter().filter(|c| **c == b'\n').count();
    assert!(lines > 10, "the demo capture decodes to readings ({lines})");
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
}

#[test]
fn bad_adapter_specs_are_usage_errors_with_the_accepted_forms() {
    let out = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .args(["run", "--adapter", "tcp:nohost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing :PORT") && err.contains("serial:/dev/ttyX"),
        "{err}"
    );
}

#[test]
fn no_bluetooth_in_this_kernel_is_a_clear_error() {
    // Here AF_BLUETOOTH does not exist: exit 69 (unavailable, worth retrying) with the reason. Where it exists, hci99 does not:
    // the adapter may still appear (boot order), so it keeps retrying; stop it after a moment.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .args(["run", "--adapter", "hci99"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() && t0.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let exited = child.try_wait().unwrap();
    if exited.is_none() {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    match exited {
        Some(st) => assert!(
            st.code() == Some(69) && err.contains("no Bluetooth sockets"),
            "{err}"
        ),
        None => assert!(
            err.contains("no Bluetooth adapter hci99") && out.status.code() == Some(0),
            "{err}"
        ),
    }
}

/// Exit statuses a supervisor can act on: config errors (78) and transports that can never
/// work (69) end at once instead of being retried forever.
#[test]
fn exit_statuses_tell_config_errors_from_unavailable_transports() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let dir = std::env::temp_dir().join(format!("hci2mqtt-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[scan]\nactiv = true\n").unwrap();
    let (code, err) = run(&["run", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("line 2") && err.contains("activ"), "{err}");
    let (code, err) = run(&["run", "--config", "/nonexistent/hci2mqtt.toml"]);
    assert_eq!(code, Some(78), "{err}");
    let (code, err) = run(&[
        "replay",
        "demo/flat.btsnoop",
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(78), "{err}");
    let adapter = dir.join("adapter.toml");
    std::fs::write(&adapter, "[scan]\nadapter = \"tcp:nohost\"\n").unwrap();
    let (code, err) = run(&["run", "--config", adapter.to_str().unwrap()]);
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("[scan] adapter"), "{err}");
    for never in ["serial:/dev/null", &format!("serial:{}", dir.display())] {
        let (code, err) = run(&["run", "--adapter", never]);
        assert_eq!(code, Some(69), "{never}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A serial port that may be plugged in later is retried with backoff, and its error is
/// logged once, not once per attempt; SIGTERM still ends it cleanly (exit 0).
#[test]
fn an_absent_tty_is_retried_and_logged_once() {
    let tty = format!("/dev/ttyhci2mqtt-absent-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .args(["run", "--adapter", &format!("serial:{tty}")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Backoff starts small, so three seconds cover several attempts.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "still retrying");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let mentions = err
        .lines()
        .filter(|l| l.contains(&tty) && !l.contains("exit:"))
        .count();
    assert_eq!(mentions, 1, "logged once: {err}");
    assert!(err.contains("not plugged in"), "{err}");
}
