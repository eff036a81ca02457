//! `hci2mqtt replay FILE [--key MAC=HEX]... [--config FILE]`
