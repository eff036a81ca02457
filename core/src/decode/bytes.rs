//! Fixed-width integer reads shared by the decoders. Callers check the slice length first
//! (each decoder validates its frame size), so these index directly.

#[inline]
pub fn u16le(d: &[u8]) -> u16 {
    u16::from_le_bytes([d[0], d[1]])
}

#[inline]
pub fn i16le(d: &[u8]) -> i16 {
    i16::from_le_bytes([d[0], d[1]])
}

#[inline]
pub fn i16be(d: &[u8]) -> i16 {
    i16::from_be_bytes([d[0], d[1]])
}

#[inline]
pub fn u24le(d: &[u8]) -> u32 {
    u32::from_le_bytes([d[0], d[1], d[2], 0])
}

#[inline]
pub fn u32le(d: &[u8]) -> u32 {
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}
