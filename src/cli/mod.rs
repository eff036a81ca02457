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

/// Exit statuses, so that a supervisor can tell "fix the setup" from "try again". Documented in
/// `hci2mqtt --help` and the README; the systemd unit does not restart on USAGE, CONFIG or
/// NO_PERMISSION (`RestartPreventExitStatus`).
pub mod exit {
    /// Clean stop (SIGINT/SIGTERM, `--seconds` elapsed, end of a capture).
    pub const OK: i32 = 0;
    /// Failed while running: a truncated or malformed capture, an I/O error.
    pub const FAILURE: i32 = 1;
    /// Bad command line (unknown flag, bad `--key`, bad `--adapter`): restarting cannot help.
    pub const USAGE: i32 = 2;
    /// sysexits' EX_UNAVAILABLE: no Bluetooth in this kernel, a transport that is not usable;
    /// worth retrying later (a module loaded, an adapter plugged in).
    pub const UNAVAILABLE: i32 = 69;
    /// sysexits' EX_NOPERM: a capability is missing; the message names the `setcap` line.
    pub const NO_PERMISSION: i32 = 77;
    /// sysexits' EX_CONFIG: the config file is missing, unreadable or invalid.
    pub const CONFIG: i32 = 78;
}

/// An error for the user with the exit status it deserves.
#[derive(Debug)]
pub struct Failure {
    pub status: i32,
    pub message: String,
}

impl Failure {
    pub fn usage(message: String) -> Failure {
        Failure {
            status: exit::USAGE,
            message,
        }
    }
    pub fn config(message: String) -> Failure {
        Failure {
            status: exit::CONFIG,
            message,
        }
    }
    /// The process exit code.
    pub fn exit_code(&self) -> std::process::ExitCode {
        std::process::ExitCode::from(self.status.clamp(0, 255) as u8)
    }
}

/// A plain message is a runtime failure.
impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            status: exit::FAILURE,
            message,
        }
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}
