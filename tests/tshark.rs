//! A btsnoop or pcapng file we write (`run --record`'s `Recorder`) opens in tshark (Wireshark's CLI, Debian package `tshark`), and
//! tshark sees the same advertising reports we do: same count, same addresses, same RSSI.

use std::process::Command;

use hci2mqtt::capture::{self, Recorder};
use hci2mqtt_core::hci::event::{Event, EventKind};

#[test]
fn written_btsnoop_opens_in_tshark_with_the_same_reports() {
    recorded_opens_in_tshark("rec.btsnoop");
}

#[test]
fn written_pcapng_opens_in_tshark_with_the_same_reports() {
    recorded_opens_in_tshark("rec.pcapng");
}

fn recorded_opens_in_tshark(name: &str) {
    let tshark = Command::new("tshark").arg("--version").output();
    assert!(
        tshark.as_ref().is_ok_and(|o| o.status.success()),
        "tshark is required for this test (apt-get install tshark); .ci/run installs it"
    );
    // Re-record the demo capture's packets through our writer.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/flat.btsnoop");
    let mut r = capture::open(src.as_ref()).expect("demo capture");
    let dir = std::env::temp_dir().join(format!("hci2mqtt-tshark-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut w = Recorder::create(&path).unwrap();
    let mut ours = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.expect("packet");
        w.write_packet(p.data, p.ts_us.unwrap_or(0), p.received)
            .unwrap();
        if let Ok(ev) = Event::new_checked(p.data) {
            if let Ok(EventKind::AdvReports(reps)) = ev.kind() {
                for rep in reps.iter() {
                    ours.push(format!("{},{}", rep.addr, rep.rssi.unwrap_or(127)).to_lowercase());
                }
            }
        }
    }
    w.flush().unwrap();
    drop(w);
    let out = Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-Y",
            "bthci_evt.le_meta_subevent == 0x02",
            "-T",
            "fields",
        ])
        .args([
            "-e",
            "bthci_evt.bd_addr",
            "-e",
            "bthci_evt.rssi",
            "-E",
            "separator=,",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_lowercase())
        .collect();
    assert!(ours.len() > 3000, "demo capture has {} reports", ours.len());
    assert_eq!(
        theirs.len(),
        ours.len(),
        "tshark saw a different number of advertising reports"
    );
    // The demo holds reports whose AD data overruns (as real captures do); tshark's dissector
    // then stops before the RSSI, so for those only the address is compared.
    let mut no_rssi = 0;
    let mismatches: Vec<_> = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, b)| {
            if b.ends_with(',') {
                no_rssi += 1;
                !a.starts_with(b.as_str())
            } else {
                a != b
            }
        })
        .take(5)
        .collect();
    assert!(mismatches.is_empty(), "ours vs tshark: {mismatches:?}");
    let caps = Command::new("capinfos")
        .args(["-t", "-E", path.to_str().unwrap()])
        .output()
        .expect("capinfos (Debian package wireshark-common, installed with tshark)");
    let caps = String::from_utf8_lossy(&caps.stdout);
    let want = if name.ends_with(".pcapng") {
        "Bluetooth H4 with linux header"
    } else {
        "Bluetooth H4"
    };
    assert!(caps.contains(want), "{caps}");
    assert!(
        no_rssi < ours.len() / 10,
        "tshark found no RSSI in {no_rssi} reports"
    );
    std::fs::remove_dir_all(&dir).ok();
}
