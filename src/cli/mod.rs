//! Command-line subcommands; `main.rs` only dispatches here. Each subcommand's `main` takes
//! the arguments after its name and returns the process exit code.

pub mod replay;
pub mod services;

/// `hci2mqtt 0.1.0 (commit abc1234, target x86_64-unknown-linux-musl)`.
pub fn version_line() -> String {
    format!(
        "hci2mqtt {} (commit {}, target {})",
        env!("CARGO_PKG_VERSION"),
        option_env!("HCI2MQTT_GIT_COMMIT").unwrap_or("unknown"),
        option_env!("HCI2MQTT_TARGET").unwrap_or(std::env::consts::ARCH),
    )
}

// Live capture subcommands.
pub mod run;
pub mod scan;
