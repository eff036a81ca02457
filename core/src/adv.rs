//! AD structures (Core Supplement Part A) inside an advertising report's data.
//!
//! Each structure is `len | type | payload[len-1]`. Two irregularities occur in real captures
//! and are handled on purpose:
//!
//! * **Zero-length structures** (`len == 0`): the Core spec says the rest of the data is
//!   insignificant (zero padding, common in scan responses padded to 31 bytes). The iterator
//!   ends there cleanly, without an error.
//! * **A length that overruns the data**: the iterator yields every structure before it, then
//!   one [`AdError::Overrun`] and stops. Callers decide: the pipeline still uses the well-formed
//!   structures before the broken one (as the kernel and BlueZ do), but never the broken one,
//!   so a decoder never sees a payload cut short by a bad length.

/// AD types used by hci2mqtt (Assigned Numbers 2.3).
pub mod ad_type {
    pub const FLAGS: u8 = 0x01;
    pub const INCOMPLETE_UUID16: u8 = 0x02;
    pub const COMPLETE_UUID16: u8 = 0x03;
    pub const INCOMPLETE_UUID32: u8 = 0x04;
    pub const COMPLETE_UUID32: u8 = 0x05;
    pub const INCOMPLETE_UUID128: u8 = 0x06;
    pub const COMPLETE_UUID128: u8 = 0x07;
    pub const SHORT_NAME: u8 = 0x08;
    pub const COMPLETE_NAME: u8 = 0x09;
    pub const TX_POWER: u8 = 0x0A;
    pub const SERVICE_DATA16: u8 = 0x16;
    pub const SERVICE_DATA32: u8 = 0x20;
    pub const SERVICE_DATA128: u8 = 0x21;
    pub const MANUFACTURER: u8 = 0xFF;
}

/// One AD structure, borrowed from the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdStructure<'a> {
    pub ad_type: u8,
    pub payload: &'a [u8],
}

impl<'a> AdStructure<'a> {
    /// 16-bit service data: (UUID, data after the UUID).
    pub fn service_data16(&self) -> Option<(u16, &'a [u8])> {
        if self.ad_type == ad_type::SERVICE_DATA16 && self.payload.len() >= 2 {
            Some((
                u16::from_le_bytes([self.payload[0], self.payload[1]]),
                &self.payload[2..],
            ))
        } else {
            None
        }
    }
    /// Manufacturer specific data: (company id, data after the id).
    pub fn manufacturer(&self) -> Option<(u16, &'a [u8])> {
        if self.ad_type == ad_type::MANUFACTURER && self.payload.len() >= 2 {
            Some((
                u16::from_le_bytes([self.payload[0], self.payload[1]]),
                &self.payload[2..],
            ))
        } else {
            None
        }
    }
    /// Shortened or complete local name, as raw bytes (may not be UTF-8).
    pub fn name(&self) -> Option<&'a [u8]> {
        match self.ad_type {
            ad_type::SHORT_NAME | ad_type::COMPLETE_NAME => Some(self.payload),
            _ => None,
        }
    }
    pub fn flags(&self) -> Option<u8> {
        if self.ad_type == ad_type::FLAGS {
            self.payload.first().copied()
        } else {
            None
        }
    }
    /// 16-bit service UUIDs (incomplete or complete list). A trailing odd byte is ignored.
    pub fn uuid16_list(&self) -> Option<impl Iterator<Item = u16> + 'a> {
        match self.ad_type {
            ad_type::INCOMPLETE_UUID16 | ad_type::COMPLETE_UUID16 => Some(
                self.payload
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]])),
            ),
            _ => None,
        }
    }
}

/// Malformed AD data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdError {
    /// The structure at `offset` declares more bytes than remain.
    Overrun { offset: usize },
}

impl core::fmt::Display for AdError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AdError::Overrun { offset } => {
                write!(f, "AD structure at offset {offset} overruns the data")
            }
        }
    }
}

/// Iterator over the AD structures of a report's data. See the module doc for padding and
/// overruns.
///
/// It keeps the unread rest of the data as a slice (emptied when the walk ends), so each step
/// is a few compares with no separate "done" flag and no index bounds checks: this loop runs
/// for every structure of every report heard.
#[derive(Clone)]
pub struct AdIter<'a> {
    rest: &'a [u8],
    /// Offset of `rest` in the report's data (for [`AdError::Overrun`]).
    off: usize,
}

/// Iterates the AD structures in `data`.
pub fn structures(data: &[u8]) -> AdIter<'_> {
    AdIter { rest: data, off: 0 }
}

impl<'a> AdIter<'a> {
    /// Only the well-formed structures; stops silently at padding or at an overrun.
    pub fn valid(self) -> impl Iterator<Item = AdStructure<'a>> {
        self.map_while(|r| r.ok())
    }
}

impl<'a> Iterator for AdIter<'a> {
    type Item = Result<AdStructure<'a>, AdError>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (&len, tail) = self.rest.split_first()?;
        let len = len as usize;
        if len == 0 {
            // Zero-length structure: the rest is padding.
            self.rest = &[];
            return None;
        }
        if len > tail.len() {
            self.rest = &[];
            return Some(Err(AdError::Overrun { offset: self.off }));
        }
        let (s, after) = tail.split_at(len);
        self.rest = after;
        self.off += 1 + len;
        let (&ad_type, payload) = s.split_first()?;
        Some(Ok(AdStructure { ad_type, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_structures() {
        let d = [
            2, 1, 6, 5, 0x16, 0x95, 0xFE, 0xAA, 0xBB, 3, 0xFF, 0x4C, 0x00,
        ];
        let v: Vec<_> = structures(&d).collect::<Result<_, _>>().unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].flags(), Some(6));
        assert_eq!(v[1].service_data16(), Some((0xFE95, &[0xAA, 0xBB][..])));
        assert_eq!(v[2].manufacturer(), Some((0x004C, &[][..])));
    }

    #[test]
    fn zero_padding_ends_cleanly() {
        let d = [2, 1, 6, 0, 0, 0, 0];
        let v: Vec<_> = structures(&d).collect();
        assert_eq!(
            v,
            vec![Ok(AdStructure {
                ad_type: 1,
                payload: &[6]
            })]
        );
    }

    #[test]
    fn overrun_is_reported_after_good_ones() {
        let d = [2, 1, 6, 9, 0x16, 0x95];
        let v: Vec<_> = structures(&d).collect();
        assert_eq!(v.len(), 2);
        assert!(v[0].is_ok());
        assert_eq!(v[1], Err(AdError::Overrun { offset: 3 }));
        assert_eq!(structures(&d).valid().count(), 1);
    }

    #[test]
    fn uuid_list_odd_byte() {
        let d = [4, 3, 0x1A, 0x18, 0x99];
        let s = structures(&d).next().unwrap().unwrap();
        assert_eq!(s.uuid16_list().unwrap().collect::<Vec<_>>(), vec![0x181A]);
        // empty list is fine (bleparser raised IndexError on it)
        let d = [1, 3];
        let s = structures(&d).next().unwrap().unwrap();
        assert_eq!(s.uuid16_list().unwrap().count(), 0);
    }
}

/// AD type classes for [`AdSummary::add`].
mod class {
    pub const OTHER: u8 = 0;
    pub const NAME: u8 = 1;
    pub const UUID16: u8 = 2;
    pub const UUID128: u8 = 3;
    pub const SERVICE_DATA16: u8 = 4;
    /// 32- and 128-bit service data.
    pub const SERVICE_DATA: u8 = 5;
    pub const MANUFACTURER: u8 = 6;
    /// Complete 32-bit UUID lists: a hint for nobody, but Sonoff's remotes carry their frame
    /// in one.
    pub const UUID32: u8 = 7;
}

/// AD type → class, built at compile time.
static CLASS: [u8; 256] = {
    let mut t = [class::OTHER; 256];
    t[ad_type::SHORT_NAME as usize] = class::NAME;
    t[ad_type::COMPLETE_NAME as usize] = class::NAME;
    t[ad_type::INCOMPLETE_UUID16 as usize] = class::UUID16;
    t[ad_type::COMPLETE_UUID16 as usize] = class::UUID16;
    t[ad_type::INCOMPLETE_UUID128 as usize] = class::UUID128;
    t[ad_type::COMPLETE_UUID128 as usize] = class::UUID128;
    t[ad_type::SERVICE_DATA16 as usize] = class::SERVICE_DATA16;
    t[ad_type::SERVICE_DATA32 as usize] = class::SERVICE_DATA;
    t[ad_type::SERVICE_DATA128 as usize] = class::SERVICE_DATA;
    t[ad_type::MANUFACTURER as usize] = class::MANUFACTURER;
    t[ad_type::COMPLETE_UUID32 as usize] = class::UUID32;
    t
};

/// What formats recognise a device by, besides their own structure: its name and advertised
/// service UUIDs. Computed once per report (one pass over the AD data) so that format
/// matchers never rescan the advert.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdSummary<'a> {
    /// Complete or shortened local name (the last one present), or empty.
    pub name: &'a [u8],
    /// Payload of the last 16-bit service UUID list (little-endian pairs), or empty.
    pub uuid16: &'a [u8],
    /// Payload of the last 128-bit service UUID list, or empty.
    pub uuid128: &'a [u8],
    /// Service data of any UUID size is present.
    pub service_data: bool,
    /// Manufacturer data from a company other than Apple (0x004C) is present.
    pub non_apple_manufacturer: bool,
}

impl<'a> AdSummary<'a> {
    /// Adds one structure; true for the structures that can carry readings (16-bit service
    /// data, manufacturer data, complete 32-bit UUID lists).
    ///
    /// The type is classified through a table (one load, then a jump table): a `match` on
    /// the type compiled to a chain of bit tests, and the pipeline runs this for every
    /// structure heard.
    #[inline]
    pub fn add(&mut self, s: &AdStructure<'a>) -> bool {
        match CLASS[s.ad_type as usize] {
            class::NAME => self.name = s.payload,
            class::UUID16 => self.uuid16 = s.payload,
            class::UUID128 => self.uuid128 = s.payload,
            class::SERVICE_DATA16 => {
                self.service_data = true;
                return true;
            }
            class::SERVICE_DATA => self.service_data = true,
            class::MANUFACTURER => {
                if s.payload.len() < 2 || s.payload[..2] != [0x4C, 0x00] {
                    self.non_apple_manufacturer = true;
                }
                return true;
            }
            class::UUID32 => return true,
            _ => {}
        }
        false
    }

    /// Summary of a whole AD data block (the well-formed structures before any overrun).
    pub fn of(data: &'a [u8]) -> Self {
        let mut h = AdSummary::default();
        for s in structures(data).valid() {
            h.add(&s);
        }
        h
    }

    /// The 16-bit service UUIDs.
    pub fn uuid16s(&self) -> impl Iterator<Item = u16> + 'a {
        self.uuid16
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
    }

    pub fn has_uuid16(&self, u: u16) -> bool {
        self.uuid16s().any(|x| x == u)
    }
}
