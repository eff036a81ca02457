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

/// A float32 from the radio as the decimal a person reads (the shortest one that is the same
/// float32: `23.2`, not `23.200000762939453` nor a 6-digit rounding like `23.200001`).
/// Formats into a stack buffer and parses back: no allocation.
pub fn f32_as_read(v: f32) -> f64 {
    use core::fmt::Write;
    struct Buf {
        b: [u8; 48],
        n: usize,
    }
    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.n + s.len();
            let dst = self.b.get_mut(self.n..end).ok_or(core::fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.n = end;
            Ok(())
        }
    }
    if !v.is_finite() {
        return v as f64;
    }
    let mut buf = Buf { b: [0; 48], n: 0 };
    // `{:e}` is the shortest round-trip form and stays short for huge and tiny values.
    if write!(buf, "{v:e}").is_err() {
        return v as f64;
    }
    core::str::from_utf8(&buf.b[..buf.n])
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(v as f64)
}

#[cfg(test)]
mod tests {
    use super::f32_as_read;

    #[test]
    fn float32_values_read_as_written() {
        assert_eq!(f32_as_read(23.2), 23.2);
        assert_eq!(f32_as_read(-0.1), -0.1);
        assert_eq!(f32_as_read(1013.25), 1013.25);
        assert_eq!(f32_as_read(f32::MAX), 3.4028235e38);
        assert_eq!(f32_as_read(1e-45), 1e-45);
        assert!(f32_as_read(f32::NAN).is_nan());
        assert_eq!(f32_as_read(f32::INFINITY), f64::INFINITY);
        assert_ne!(
            23.2f32 as f64, 23.2,
            "the plain widening is what this avoids"
        );
    }
}
