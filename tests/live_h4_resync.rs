//! The live H4/TCP path resynchronises after garbage: a TCP peer answers the scan setup with
//! Command Completes preceded by junk (a UART controller's boot banner, line noise), then sends
//! an LE Extended Advertising Report recorded from Bumble's controller, again after junk. The
//! reading must come out, and the exit summary must count the skipped bytes and resyncs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Recorded from Bumble 0.0.236 (tests/live_bumble.rs `--record`): LYWSD02MMC temperature frame.
const BUMBLE_REPORT: &str =
    "043e340d0101000078fd0e38c1a401010000ce0000000000000000001a020106161695fe4858422529202d8c7a76b756a82a0078b8224e";

mod support;

use support::hex::hex;

#[test]
fn garbage_on_the_stream_is_skipped_and_counted() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .args([
            "run",
            "--adapter",
            &format!("tcp:127.0.0.1:{port}"),
            "--key",
            "A4:C1:38:0E:FD:78=19b1c678ab0a8bc3dc77765f059188d4",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let banner = b"*** Booting Zephyr OS ***\r\n";
    s.write_all(banner).unwrap();
    let mut junk_sent = banner.len();
    let t0 = Instant::now();
    let mut enabled = false;
    while !enabled && t0.elapsed() < Duration::from_secs(10) {
        let mut h = [0u8; 4];
        s.read_exact(&mut h).unwrap();
        assert_eq!(h[0], 0x01, "only commands from the host");
        let mut p = vec![0u8; h[3] as usize];
        s.read_exact(&mut p).unwrap();
        let op = u16::from_le_bytes([h[1], h[2]]);
        let rp: Vec<u8> = match op {
            0x1002 => vec![0; 65],
            0x2003 => vec![0; 9],
            _ => vec![0],
        };
        // Junk that is not a plausible packet start (0xFF, 0x00…) before each reply.
        let junk = [0xFFu8, 0x00, 0x3E, 0x00];
        s.write_all(&junk).unwrap();
        junk_sent += junk.len();
        let mut cc = vec![0x04, 0x0E, (3 + rp.len()) as u8, 0x01, h[1], h[2]];
        cc.extend_from_slice(&rp);
        s.write_all(&cc).unwrap();
        enabled = op == 0x200C && p.first() == Some(&1);
    }
    assert!(enabled, "scan setup did not reach Scan Enable");
    s.write_all(&[0x00, 0x00, 0x00]).unwrap();
    junk_sent += 3;
    s.write_all(&hex(BUMBLE_REPORT)).unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.contains(&b'\n') {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "hci2mqtt stopped");
        got.extend_from_slice(&buf[..n]);
    }
    let line: serde_json::Value =
        serde_json::from_slice(&got[..got.iter().position(|b| *b == b'\n').unwrap()]).unwrap();
    assert_eq!(line["mac"], "A4:C1:38:0E:FD:78");
    assert_eq!(line["temperature"], 26.1);
    // SIGUSR2 must not kill the gateway; SIGUSR1 dumps the status to stderr.
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGUSR2) };
    unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGUSR1/SIGUSR2 ended the process"
    );
    // SAFETY: kill(2) on our own child; the peer answers the final disable.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut h = [0u8; 6];
    if s.read_exact(&mut h).is_ok() {
        assert_eq!(
            h,
            [0x01, 0x0C, 0x20, 0x02, 0x00, 0x00],
            "scan disabled on SIGTERM"
        );
        s.write_all(&[0x04, 0x0E, 0x04, 0x01, 0x0C, 0x20, 0x00])
            .unwrap();
    }
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(0));
    let err = String::from_utf8_lossy(&res.stderr);
    let want = format!("H4: {junk_sent} garbage bytes");
    assert!(err.contains(&want), "expected {want:?} in: {err}");
    assert!(!err.contains(" 0 resyncs"), "{err}");
    assert!(err.contains("SIGUSR2 ignored"), "{err}");
    let status = err
        .lines()
        .find(|l| l.contains("status: "))
        .unwrap_or_else(|| panic!("no SIGUSR1 status line: {err}"));
    assert!(
        status.contains("1 readings") && status.contains("1 devices") && status.contains("(up)"),
        "{status}"
    );
}
