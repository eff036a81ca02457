//! pcapng and pcap files made by Wireshark's own tools (`editcap`, `text2pcap`, Debian package
//! `wireshark-common`, installed with `tshark`) replay like the btsnoop they came from.

use std::path::{Path, PathBuf};
use std::process::Command;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn tool(name: &str, args: &[&str]) {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} is required for this test (apt-get install tshark wireshark-common): {e}")
    });
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hci2mqtt-pcapng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// (stdout, stderr) of `hci2mqtt replay FILE --config demo/flat.toml`; exit 0 required.
fn replay(file: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .arg("replay")
        .arg(file)
        .args(["--config", "demo/flat.toml"])
        .current_dir(DIR)
        .output()
        .expect("run hci2mqtt");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "replay {}: {err}", file.display());
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

#[test]
fn editcap_conversions_replay_identically() {
    let src = Path::new(DIR).join("demo/flat.btsnoop");
    let (want, _) = replay(&src);
    assert!(want.lines().count() > 50);
    for (format, kind) in [
        ("pcapng", "(pcapng)"),
        ("pcap", "(pcap)"),
        ("nsecpcap", "(pcap)"),
    ] {
        let f = tmp(&format!("flat.{format}"));
        tool(
            "editcap",
            &["-F", format, src.to_str().unwrap(), f.to_str().unwrap()],
        );
        let (got, err) = replay(&f);
        assert!(err.contains(kind), "{err}");
        assert!(
            got == want,
            "editcap -F {format}: output differs from the btsnoop's"
        );
    }
}

#[test]
fn text2pcap_h4_link_types_decode() {
    // One LE advertising report (ADV_IND, RSSI -60) with a flags AD element.
    let h4 = "04 3e 0f 02 01 00 00 11 22 33 44 55 66 03 02 01 06 c4";
    let txt = tmp("adv.txt");
    std::fs::write(&txt, format!("0000  {h4}\n")).unwrap();
    // For 201 text2pcap writes the direction header itself (received).
    for link in ["201", "187"] {
        for format in ["pcapng", "pcap"] {
            let f = tmp(&format!("adv-{link}.{format}"));
            tool(
                "text2pcap",
                &[
                    "-q",
                    "-F",
                    format,
                    "-l",
                    link,
                    txt.to_str().unwrap(),
                    f.to_str().unwrap(),
                ],
            );
            let (_, err) = replay(&f);
            assert!(
                err.contains("packets 1, reports 1,"),
                "text2pcap -l {link} -F {format}: {err}"
            );
        }
    }
}

#[test]
fn android_bugreport_zip_replays_its_btsnoop_log() {
    let src = Path::new(DIR).join("demo/flat.btsnoop");
    let (want, _) = replay(&src);
    let root = tmp("bugreport");
    let logs = root.join("FS/data/misc/bluetooth/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(&src, logs.join("btsnoop_hci.log")).unwrap();
    std::fs::write(root.join("bugreport.txt"), "== dumpstate ==\n").unwrap();
    let z = tmp("bugreport.zip");
    // Python's zipfile with deflate, as Android writes it (python3 is in every Debian image).
    let out = Command::new("python3")
        .current_dir(&root)
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
             \x20   z.write('bugreport.txt')\n\
             \x20   z.write('FS/data/misc/bluetooth/logs/btsnoop_hci.log')\n",
            z.to_str().unwrap(),
        ])
        .output()
        .expect("python3 is required for this test (apt-get install python3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (got, err) = replay(&z);
    assert!(err.contains("btsnoop"), "{err}");
    assert!(got == want, "zip: output differs from the plain btsnoop's");
    // A zip without a log says so.
    let bare = tmp("bare.zip");
    let out = Command::new("python3")
        .current_dir(&root)
        .args([
            "-c",
            "import sys, zipfile\nzipfile.ZipFile(sys.argv[1], 'w').write('bugreport.txt')\n",
            bare.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .arg("replay")
        .arg(&bare)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no btsnoop_hci.log"));
}
