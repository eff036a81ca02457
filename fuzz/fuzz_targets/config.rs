//! Any text into the config parser: never a panic, and a rejected file's error never repeats
//! the value of a `password`, `key` or `username` line (what `config`'s module doc promises).
#![no_main]
use hci2mqtt::config::Config;
use libfuzzer_sys::fuzz_target;

/// Values of `password = "..."`, `key = "..."`, `username = "..."` lines, quotes stripped.
fn secrets(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| matches!(k.trim(), "password" | "key" | "username"))
        .map(|(_, v)| v.trim().trim_matches(|c| c == '"' || c == '\''))
        // Short values occur in any message by chance ("a", "1"); a real secret is longer.
        .filter(|v| v.len() >= 8 && v.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::parse(text, "fuzz.toml") {
        let msg = e.to_string();
        // A value that also stands elsewhere in the file may be echoed as that other field's.
        for s in secrets(text)
            .into_iter()
            .filter(|s| text.matches(s).count() == 1)
        {
            assert!(!msg.contains(s), "secret {s:?} in error: {msg}");
        }
    }
});
