//! Capture files: replay (btsnoop, pcapng, Android bug report zips, `hcidump -R` text, hex
//! text) and recording (btsnoop, or pcapng for a `.pcapng` name).

pub mod btsnoop;
pub mod pcapng;
pub mod reader;
pub mod zip;

pub use reader::{open, CaptureError, Kind, Packet, Reader, Source, ACCEPTED};

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

/// `--record`: pcapng when the file name ends in `.pcapng`, btsnoop otherwise.
pub enum Recorder {
    Btsnoop(btsnoop::Writer<BufWriter<File>>),
    Pcapng(pcapng::Writer<BufWriter<File>>),
}

impl Recorder {
    /// Creates the file and writes its header.
    pub fn create(path: &Path) -> io::Result<Recorder> {
        let out = BufWriter::new(File::create(path)?);
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"))
        {
            Ok(Recorder::Pcapng(pcapng::Writer::new(out)?))
        } else {
            Ok(Recorder::Btsnoop(btsnoop::Writer::new(out)?))
        }
    }

    /// Appends one H4 packet; `received` is true for controller → host.
    pub fn write_packet(&mut self, h4: &[u8], unix_us: i64, received: bool) -> io::Result<()> {
        match self {
            Recorder::Btsnoop(w) => w.write_packet(h4, unix_us, received),
            Recorder::Pcapng(w) => w.write_packet(h4, unix_us, received),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Recorder::Btsnoop(w) => w.flush(),
            Recorder::Pcapng(w) => w.flush(),
        }
    }
}
