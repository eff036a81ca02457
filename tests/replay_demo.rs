//! The README's main job: `hci2mqtt replay demo/flat.btsnoop --config demo/flat.toml`.
//! Its output is checked against the truth the generator wrote (every distinct reading the
//! simulated sensors sent), plus a few values stated here outright.

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value as J;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn replay(args: &[&str]) -> (Vec<J>, String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .arg("replay")
        .args(args)
        .current_dir(DIR)
        .output()
        .expect("run hci2mqtt");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn demo_capture_decodes_to_the_truth() {
    let (lines, err, code) = replay(&["demo/flat.btsnoop", "--config", "demo/flat.toml"]);
    assert_eq!(code, Some(0), "{err}");
    let truth: Vec<J> = std::fs::read_to_string(format!("{DIR}/demo/flat.truth.jsonl"))
        .expect("truth")
        .lines()
        .map(|l| serde_json::from_str(l).expect("truth json"))
        .collect();
    let mut got: HashMap<(String, u64), &J> = HashMap::new();
    for l in &lines {
        got.insert(
            (
                l["mac"].as_str().unwrap_or("").to_string(),
                l["packet"].as_u64().unwrap_or(999),
            ),
            l,
        );
    }
    let mut expected = 0;
    for t in &truth {
        let key = (
            t["mac"].as_str().unwrap_or("").to_string(),
            t["packet"].as_u64().unwrap_or(0),
        );
        if t.get("needs_key").is_some() {
            assert!(
                !got.contains_key(&key),
                "decoded a frame whose key is not configured: {t}"
            );
            continue;
        }
        expected += 1;
        let g = got
            .get(&key)
            .unwrap_or_else(|| panic!("reading missing: {t}"));
        for (k, v) in t.as_object().unwrap_or(&Default::default()) {
            if k == "t" || k == "mac" || k == "packet" {
                continue;
            }
            let (a, b) = (
                v.as_f64().unwrap_or(f64::NAN),
                g[k].as_f64().unwrap_or(f64::NAN),
            );
            assert!((a - b).abs() < 1e-6, "{k}: truth {v}, replay {}", g[k]);
        }
    }
    // One line per distinct frame: re-broadcasts are dropped as duplicates.
    assert_eq!(lines.len(), expected, "{err}");
    assert!(expected > 80);
    // Values stated outright (the generator is deterministic).
    let first = |mac: &str| {
        lines
            .iter()
            .find(|l| l["mac"] == mac)
            .expect("sensor present")
    };
    let bedroom = first("A4:C1:38:1E:52:7B");
    assert_eq!(bedroom["model"], "LYWSD03MMC");
    assert_eq!(bedroom["format"], "mibeacon-v5-encrypted");
    assert_eq!(bedroom["temperature"], 19.9);
    assert_eq!(first("A4:C1:38:5C:04:D1")["temperature"], 21.4);
    let bath = first("58:2D:34:10:5A:3C");
    assert_eq!(bath["model"], "LYWSDCGQ");
    assert_eq!(
        (bath["temperature"].clone(), bath["humidity"].clone()),
        (J::from(23.5), J::from(70.5))
    );
    assert_eq!(first("E4:AA:EC:61:22:0C")["model"], "LYWSD02MMC");
    // The sensor without a key is named once, and the summary counts what happened.
    assert_eq!(err.matches("A4:C1:38:99:10:42").count(), 1, "{err}");
    assert!(err.contains("MHO-C401"), "{err}");
    assert!(err.contains(&format!("decoded {expected},")), "{err}");
    assert!(
        err.contains("duplicates ") && !err.contains("duplicates 0,"),
        "{err}"
    );
}

#[test]
fn wrong_key_is_reported_once_and_counted_by_mac() {
    // Kitchen's key with one digit changed.
    let (lines, err, code) = replay(&[
        "demo/flat.btsnoop",
        "--key",
        "E4:AA:EC:61:22:0C=1c7a9f3e5b2d4c6a8e1f0b9d7c5a3e21",
    ]);
    assert_eq!(code, Some(0));
    assert!(lines.iter().all(|l| l["mac"] != "E4:AA:EC:61:22:0C"));
    assert_eq!(
        err.matches("E4:AA:EC:61:22:0C: mibeacon").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("decrypt failures E4:AA:EC:61:22:0C: "),
        "{err}"
    );
    // Plain MiBeacon still decodes without any key.
    assert!(lines.iter().any(|l| l["model"] == "HHCCJCY01"));
}

#[test]
fn bad_arguments_name_the_argument() {
    let (_, err, code) = replay(&["demo/flat.btsnoop", "--key", "E4:AA:EC:61:22:0C=abcd"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--key E4:AA:EC:61:22:0C=<key>") && err.contains("32"),
        "{err}"
    );
    assert!(!err.contains("abcd"), "key material echoed: {err}");
    let (_, err, code) = replay(&[
        "demo/flat.btsnoop",
        "--key",
        "E4:AA:EC:61:22=0c7a9f3e5b2d4c6a8e1f0b9d7c5a3e21",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("MAC"), "{err}");
    // Mistyped separators: the argument may be all key, so none of it is echoed.
    let key = "0c7a9f3e5b2d4c6a8e1f0b9d7c5a3e21";
    for arg in [
        key.to_string(),
        format!("E4:AA:EC:61:22:0C:{key}"),
        format!("E4:AA:EC:61:22:0C {key}"),
        format!("{key}=E4:AA:EC:61:22:0C"),
    ] {
        let (_, err, code) = replay(&["demo/flat.btsnoop", "--key", &arg]);
        assert_eq!(code, Some(2), "{arg}: {err}");
        assert!(err.contains("MAC"), "{arg}: {err}");
        assert!(
            !err.contains(&key[4..12]),
            "key material echoed for {arg}: {err}"
        );
    }
    let (_, err, code) = replay(&["Cargo.toml"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("btsnoop") && err.contains("hcidump"), "{err}");
}

#[test]
fn truncated_capture_keeps_what_was_decoded() {
    let dir = std::env::temp_dir().join(format!("hci2mqtt-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = std::fs::read(format!("{DIR}/demo/flat.btsnoop")).unwrap();
    let cut = dir.join("cut.btsnoop");
    std::fs::write(&cut, &full[..full.len() / 2 + 7]).unwrap();
    let (lines, err, code) = replay(&[cut.to_str().unwrap(), "--config", "demo/flat.toml"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("truncated"), "{err}");
    assert!(
        lines.len() > 30,
        "readings before the cut are printed: {}",
        lines.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `hci2mqtt scan` over the demo capture with its config, plus `extra` arguments.
fn scan_demo(extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hci2mqtt"))
        .args([
            "scan",
            "--adapter",
            "replay:demo/flat.btsnoop",
            "--config",
            "demo/flat.toml",
        ])
        .args(extra)
        .current_dir(DIR)
        .output()
        .expect("run hci2mqtt scan")
}

#[test]
fn scan_table_of_the_demo_capture() {
    let out = scan_demo(&[]);
    assert_eq!(out.status.code(), Some(0));
    let t = String::from_utf8_lossy(&out.stdout);
    let row = |mac: &str| {
        t.lines()
            .find(|l| l.starts_with(mac))
            .unwrap_or_else(|| panic!("{mac} missing:\n{t}"))
            .to_string()
    };
    let r = row("A4:C1:38:99:10:42");
    assert!(r.contains("MHO-C401") && r.contains("needs a key"), "{r}");
    let r = row("A4:C1:38:1E:52:7B");
    assert!(r.contains("LYWSD03MMC") && r.contains("key works"), "{r}");
    assert!(row("8C:79:F5:22:41:0B").contains("[TV] Samsung Q60"));
    assert!(row("C4:7C:8D:6A:3E:7A").contains("HHCCJCY01"));
}

/// `scan --raw`: one JSON line per device no format decodes, with its structures as hex, for
/// a request for a new format; the decodable sensors and the flags-and-name-only adverts
/// are not in it.
#[test]
fn scan_raw_lists_undecodable_devices_once_each() {
    let out = scan_demo(&["--raw"]);
    assert_eq!(out.status.code(), Some(0));
    let t = String::from_utf8_lossy(&out.stdout);
    let mut macs = std::collections::BTreeSet::new();
    for l in t.lines() {
        let j: J = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        let mac = j["mac"].as_str().expect("mac").to_string();
        assert!(!mac.starts_with("A4:C1:38"), "a decodable sensor: {l}");
        let ad = j["ad"].as_array().expect("ad");
        assert!(
            ad.iter()
                .any(|s| matches!(s["type"].as_str(), Some("ff" | "16"))),
            "nothing to decode in {l}"
        );
        assert!(ad.iter().all(|s| s["data"].as_str().is_some()), "{l}");
        assert!(macs.insert(mac), "printed twice: {l}");
    }
    assert!(macs.len() >= 5, "{t}");
    assert!(!t.contains("LAST READING"), "no table with --raw");
}
