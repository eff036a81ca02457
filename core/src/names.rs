//! The local name each address last sent, for the formats recognised by name (ThermoPro,
//! Inkbird, SensorPush, some Govee models). With active scanning the controller reports the
//! scan response (which usually carries the name) separately from the advertisement (which
//! carries the data), so a report without a name is matched with the one its address sent
//! last. Bounded: when [`Names::CAP`] addresses are known, the table starts over (a sensor's
//! name comes back with its next scan response, every few seconds).

use crate::addr::{Addr, AddrHashBuilder, AddrMap};

/// Longest name kept (an extended advert may carry more; formats match on the first bytes).
pub const MAX_NAME: usize = 32;

pub struct Names {
    map: AddrMap<([u8; MAX_NAME], u8)>,
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

    /// Remembers `name` (non-empty) as what `addr` is called.
    pub fn remember(&mut self, addr: Addr, name: &[u8]) {
        let n = name.len().min(MAX_NAME);
        if let Some((b, len)) = self.map.get_mut(&addr) {
            if b[..*len as usize] != name[..n] {
                b[..n].copy_from_slice(&name[..n]);
                *len = n as u8;
            }
            return;
        }
        if self.map.len() >= Self::CAP {
            self.map.clear();
            self.resets += 1;
        }
        let mut b = [0u8; MAX_NAME];
        b[..n].copy_from_slice(&name[..n]);
        self.map.insert(addr, (b, n as u8));
    }

    /// The name `addr` sent last (empty: none known).
    pub fn recall(&self, addr: &Addr) -> &[u8] {
        match self.map.get(addr) {
            Some((b, len)) => &b[..*len as usize],
            None => &[],
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
        assert_eq!(n.recall(&a), b"");
        n.remember(a, b"TP357 (2B54)");
        assert_eq!(n.recall(&a), b"TP357 (2B54)");
        n.remember(a, b"TP359");
        assert_eq!(n.recall(&a), b"TP359");
        n.remember(a, &[b'x'; 40]);
        assert_eq!(n.recall(&a).len(), MAX_NAME);
        for i in 0..2000u32 {
            let b = i.to_be_bytes();
            n.remember(Addr([9, 9, b[0], b[1], b[2], b[3]]), b"phone");
            assert!(n.len() <= Names::CAP);
        }
        assert!(n.resets >= 3);
    }
}
