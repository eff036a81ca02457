//! hci2mqtt command line: dispatches to `cli::<subcommand>`.

use std::process::ExitCode;

const USAGE: &str = "\
hci2mqtt: Bluetooth LE sensor advertisements to MQTT (Home Assistant / Domoticz discovery)

USAGE:
    hci2mqtt <COMMAND> [OPTIONS]

COMMANDS:
    replay FILE [--key MAC=HEX]... [--config FILE]
        Decode a capture (btsnoop 1001/1002/2001, `hcidump -R` text, or one hex HCI packet
        per line) and print one JSON object per reading; summary on stderr.
    run [--config FILE] [--adapter SPEC] [--key MAC=HEX]... [--record FILE]
        Scan and publish. SPEC: hci0 | INDEX | adapter MAC | tcp:HOST:PORT |
        serial:/dev/ttyX[@BAUD] | replay:FILE. Without an [mqtt] section readings go to
        stdout as JSON lines, exactly as `replay` prints them.
    scan [--adapter SPEC] [--seconds N] [--config FILE] [--key MAC=HEX]... [--raw]
        Live table of nearby devices: address, name, RSSI, format, model, key status.

OPTIONS:
    -h, --help       Print this help (or `hci2mqtt COMMAND --help`)
    -V, --version    Print version, git commit and target

EXIT STATUS:
    0   clean stop (SIGINT/SIGTERM, --seconds, end of a capture)
    1   failure while running (truncated or malformed capture, I/O error)
    2   command-line error (not worth restarting)
    69  Bluetooth or the transport is unavailable (worth retrying later)
    77  a capability is missing: the message names the setcap line
    78  config file missing, unreadable or invalid (not worth restarting)
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(cmd) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::from(hci2mqtt::cli::exit::USAGE as u8);
    };
    let rest: Vec<std::ffi::OsString> = args.collect();
    match cmd.to_str() {
        Some("replay") => hci2mqtt::cli::replay::main(rest),
        Some("run") => hci2mqtt::cli::run::main(rest),
        Some("scan") => hci2mqtt::cli::scan::main(rest),
        Some("-h") | Some("--help") | Some("help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V") | Some("--version") => {
            println!("{}", hci2mqtt::cli::version_line());
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("hci2mqtt: unknown command {cmd:?}\n\n{USAGE}");
            ExitCode::from(hci2mqtt::cli::exit::USAGE as u8)
        }
    }
}
