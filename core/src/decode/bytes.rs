//! Fixed-width integer reads shared by the decoders, and the two float conversions that go
//! through decimal text (a float32 as written, Python's `round`). Callers check the slice
//! length first (each decoder validates its frame size), so the reads index directly.

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

/// Formats `args` into a stack buffer and parses the text back as a float: the exact decimal
/// conversions of `core::fmt` without allocating. `None` if the text does not fit or parse.
fn via_text(args: core::fmt::Arguments<'_>) -> Option<f64> {
    struct Buf {
        b: [u8; 48],
        n: usize,
    }
    impl core::fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.n + s.len();
            let dst = self.b.get_mut(self.n..end).ok_or(core::fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.n = end;
            Ok(())
        }
    }
    let mut buf = Buf { b: [0; 48], n: 0 };
    core::fmt::write(&mut buf, args).ok()?;
    core::str::from_utf8(&buf.b[..buf.n]).ok()?.parse().ok()
}

/// A float32 from the radio as the decimal a person reads (the shortest one that is the same
/// float32: `23.2`, not `23.200000762939453` nor a 6-digit rounding like `23.200001`).
pub fn f32_as_read(v: f32) -> f64 {
    if !v.is_finite() {
        return v as f64;
    }
    // `{:e}` is the shortest round-trip form and stays short for huge and tiny values.
    via_text(format_args!("{v:e}")).unwrap_or(v as f64)
}

/// Python's `round(x, n)`, which the reference parsers' values come from: the decimal with `n`
/// places nearest to the exact binary value of `x`, ties to even (`0.35` is 0.34999… and gives
/// 0.3; 261.25 gives 261.2). Rust's fixed-precision formatting rounds exactly so.
pub fn py_round(x: f64, n: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    via_text(format_args!("{:.*}", n.max(0) as usize, x)).unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::{f32_as_read, py_round};

    /// As Python's `round`: the exact binary value, ties to even.
    #[test]
    fn py_round_as_python() {
        assert_eq!(py_round(-22.0 * 0.35, 1), -7.7);
        assert_eq!(py_round(0.35, 1), 0.3); // 0.35 is 0.34999… in binary, as in Python
        assert_eq!(py_round(0.25, 1), 0.2);
        assert_eq!(py_round(-0.25, 1), -0.2);
        assert_eq!(py_round(2.675, 2), 2.67);
        assert_eq!(py_round(2.5, 0), 2.0);
        assert_eq!(py_round(1.5, 0), 2.0);
        assert_eq!(py_round(261.25, 1), 261.2);
        assert!(py_round(f64::NAN, 2).is_nan());
    }

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
