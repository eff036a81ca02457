//! The local name and the first 128-bit service UUID each address last sent in a scan
//! response, for the formats recognised by them (ThermoPro, Inkbird, SensorPush, some Govee
//! models by name; SensorPush HT1 by its UUID). With active scanning the controller reports the
//! scan response (which usually carries them) separately from the advertisement (which
//! carries the data), so a report without them is matched with what its address sent last.
//! Bounded: when [`Names::CAP`] addresses are known, the table starts over (a sensor's scan
//! response comes back every few seconds).

use crate::addr::{Addr, AddrHashBuilder, AddrMap};

/// Longest name kept (an extended advert may carry more; formats match on the first bytes).
pub const MAX_NAME: usize = 32;

/// One address's memory: the name (bytes, length) and the first 128-bit UUID (when its
/// length is 16).
struct Entry {
    name: [u8; MAX_NAME],
    name_len: u8,
    uuid128: [u8; 16],
    uuid_len: u8,
}

pub struct Names {
    map: AddrMap<Entry>,
    /// Times the table was full and started over.
    pub resets: u64,
}

impl Names {
    pub const CAP: usize = 512;

    pub fn new(hash_key: u64) -> Names {
        Names {
            map: AddrMap::with_hasher(AddrHashBuilder::with_key(hash_key)),
            resets: 0,
        }
    }

    /// Remembers what a scan response of `addr` carried: its name and the first UUID of its
    /// 128-bit UUID list (`uuid128`, the list's bytes). An empty part keeps what was known.
    pub fn remember(&mut self, addr: Addr, name: &[u8], uuid128: &[u8]) {
        let n = name.len().min(MAX_NAME);
        let u = if uuid128.len() >= 16 { 16 } else { 0 };
        if n == 0 && u == 0 {
            return;
        }
        if !self.map.contains_key(&addr) && self.map.len() >= Self::CAP {
            self.map.clear();
            self.resets += 1;
        }
        let e = self.map.entry(addr).or_insert(Entry {
            name: [0; MAX_NAME],
            name_len: 0,
            uuid128: [0; 16],
            uuid_len: 0,
        });
        if n > 0 && e.name[..e.name_len as usize] != name[..n] {
            e.name[..n].copy_from_slice(&name[..n]);
            e.name_len = n as u8;
        }
        if u > 0 {
            e.uuid128.copy_from_slice(&uuid128[..16]);
            e.uuid_len = 16;
        }
    }

    /// The name and the 128-bit UUID (16 bytes, or empty) `addr` sent last.
    pub fn recall(&self, addr: &Addr) -> (&[u8], &[u8]) {
        match self.map.get(addr) {
            Some(e) => (
                &e.name[..e.name_len as usize],
                &e.uuid128[..e.uuid_len as usize],
            ),
            None => (&[], &[]),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_name_and_stays_bounded() {
        let mut n = Names::new(7);
        let a = Addr([1, 2, 3, 4, 5, 6]);
        assert_eq!(n.recall(&a).0, b"");
        n.remember(a, b"TP357 (2B54)", &[]);
        assert_eq!(n.recall(&a).0, b"TP357 (2B54)");
        n.remember(a, b"TP359", &[]);
        assert_eq!(n.recall(&a).0, b"TP359");
        n.remember(a, &[b'x'; 40], &[]);
        assert_eq!(n.recall(&a).0.len(), MAX_NAME);
        for i in 0..2000u32 {
            let b = i.to_be_bytes();
            n.remember(Addr([9, 9, b[0], b[1], b[2], b[3]]), b"phone", &[]);
            assert!(n.len() <= Names::CAP);
        }
        assert!(n.resets >= 3);
    }
}
