//! Stamps the binary with its git commit and target triple for `hci2mqtt --version`
//! (read with `option_env!` in `src/cli/mod.rs`).
//!
//! HCI2MQTT_GIT_COMMIT: `git rev-parse --short HEAD`, or the value of that variable in the
//! build environment when set (builds from a tarball), else "unknown".
//! HCI2MQTT_TARGET: cargo's TARGET (e.g. arm-unknown-linux-musleabihf).

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=HCI2MQTT_GIT_COMMIT");

    let commit = std::env::var("HCI2MQTT_GIT_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=HCI2MQTT_GIT_COMMIT={commit}");

    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=HCI2MQTT_TARGET={target}");

    // Re-run when HEAD moves: HEAD itself (branch switch, detached checkout), the branch ref
    // it points to (new commit) and packed-refs (after gc). Works in worktrees too, where
    // `.git` is a file and the ref lives in the common dir.
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) {
        let head = git_dir.join("HEAD");
        if head.exists() {
            println!("cargo:rerun-if-changed={}", head.display());
        }
        if let Some(common) = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from) {
            let packed = common.join("packed-refs");
            if packed.exists() {
                println!("cargo:rerun-if-changed={}", packed.display());
            }
            if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
                let ref_file = common.join(&r);
                if ref_file.exists() {
                    println!("cargo:rerun-if-changed={}", ref_file.display());
                }
            }
        }
    }
}
