//! Android bug report zips: the btsnoop log (`FS/data/misc/bluetooth/logs/btsnoop_hci.log`)
//! is found through the zip's central directory and inflated into memory, bounded.

use std::io::{Read, Seek, SeekFrom};

use super::reader::CaptureError;

pub const MAGIC: &[u8; 4] = b"PK\x03\x04";
const EOCD_SIG: u32 = 0x0605_4B50;
const CENTRAL_SIG: u32 = 0x0201_4B50;
const LOCAL_SIG: u32 = 0x0403_4B50;
const EOCD_LEN: usize = 22;
/// The end record may be followed by a comment of up to 65535 bytes.
const EOCD_SEARCH: u64 = EOCD_LEN as u64 + 65_535;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const STORED: u16 = 0;
const DEFLATE: u16 = 8;
/// Central directory of a bug report: a few thousand entries of ~100 bytes.
const MAX_DIRECTORY: usize = 16 * 1024 * 1024;
/// Largest btsnoop log accepted: Android caps its log far below this.
pub const MAX_LOG: usize = 256 * 1024 * 1024;

fn bad(reason: &'static str) -> CaptureError {
    CaptureError::Zip(reason)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads `n` bytes at `pos`. Grows with what is actually there, so a length field that lies
/// costs no allocation beyond the file's size.
fn read_at<R: Read + Seek>(f: &mut R, pos: u64, n: usize) -> Result<Vec<u8>, CaptureError> {
    f.seek(SeekFrom::Start(pos))?;
    let mut v = Vec::new();
    f.take(n as u64).read_to_end(&mut v)?;
    if v.len() != n {
        return Err(bad("entry runs past the end of the file"));
    }
    Ok(v)
}

/// The inflated btsnoop log of the zip: an entry named `…btsnoop_hci.log`, else
/// `…btsnoop_hci.log.last`.
pub fn btsnoop_log<R: Read + Seek>(f: &mut R) -> Result<Vec<u8>, CaptureError> {
    let len = f.seek(SeekFrom::End(0))?;
    let tail_at = len.saturating_sub(EOCD_SEARCH);
    let tail = read_at(f, tail_at, (len - tail_at) as usize)?;
    let eocd = (0..tail.len().saturating_sub(EOCD_LEN - 1))
        .rev()
        .find(|&i| u32_at(&tail, i) == EOCD_SIG)
        .ok_or(bad("no end of central directory (not a zip, or cut short)"))?;
    let e = &tail[eocd..];
    let dir_len = u32_at(e, 12) as usize;
    let dir_at = u32_at(e, 16);
    if dir_at == u32::MAX || dir_len > MAX_DIRECTORY {
        return Err(bad("zip64 or oversized central directory"));
    }
    let dir = read_at(f, u64::from(dir_at), dir_len)?;
    let mut best: Option<(bool, u16, usize, usize, u64)> = None;
    let mut at = 0;
    while at + CENTRAL_LEN <= dir.len() && u32_at(&dir, at) == CENTRAL_SIG {
        let method = u16_at(&dir, at + 10);
        let packed = u32_at(&dir, at + 20) as usize;
        let size = u32_at(&dir, at + 24) as usize;
        let name_len = u16_at(&dir, at + 28) as usize;
        let rest = name_len + u16_at(&dir, at + 30) as usize + u16_at(&dir, at + 32) as usize;
        let local = u64::from(u32_at(&dir, at + 42));
        let name = dir
            .get(at + CENTRAL_LEN..at + CENTRAL_LEN + name_len)
            .ok_or(bad("central directory entry cut short"))?;
        let last = name.ends_with(b"btsnoop_hci.log.last");
        if name.ends_with(b"btsnoop_hci.log") || (last && best.is_none()) {
            best = Some((last, method, packed, size, local));
        }
        at += CENTRAL_LEN + rest;
    }
    let (_, method, packed, size, local) = best.ok_or(bad("no btsnoop_hci.log in the zip"))?;
    if size > MAX_LOG || packed > MAX_LOG {
        return Err(CaptureError::Zip("btsnoop_hci.log larger than 256 MiB"));
    }
    let h = read_at(f, local, LOCAL_LEN)?;
    if u32_at(&h, 0) != LOCAL_SIG {
        return Err(bad("local header missing"));
    }
    let data_at = local + (LOCAL_LEN + u16_at(&h, 26) as usize + u16_at(&h, 28) as usize) as u64;
    let data = read_at(f, data_at, packed)?;
    match method {
        STORED => Ok(data),
        DEFLATE => miniz_oxide::inflate::decompress_to_vec_with_limit(&data, MAX_LOG)
            .map_err(|_| bad("btsnoop_hci.log does not inflate (corrupt or over 256 MiB)")),
        _ => Err(bad("btsnoop_hci.log uses a compression other than deflate")),
    }
}
