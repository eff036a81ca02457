//! `hci2mqtt replay FILE [--key MAC=HEX]... [--config FILE]`

use std::ffi::OsString;
use std::process::ExitCode;

pub fn main(_args: Vec<OsString>) -> ExitCode {
    eprintln!("replay: not implemented yet");
    ExitCode::from(2)
}
