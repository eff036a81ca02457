//! One rule for "our value matches the expected one", for every vector test.

use hci2mqtt_core::decode::Value;
use serde_json::Value as J;

/// A value we produced, whether read from a [`hci2mqtt_core::Reading`] or from the JSON we print.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Got<'a> {
    Num(f64),
    Text(&'a str),
}

impl<'a> From<&'a Value> for Got<'a> {
    fn from(v: &'a Value) -> Got<'a> {
        match v {
            Value::Text(t) => Got::Text(t),
            other => Got::Num(other.as_f64().unwrap_or(f64::NAN)),
        }
    }
}

impl<'a> Got<'a> {
    /// A printed JSON value (a number or a string; anything else never matches).
    pub fn json(v: &'a J) -> Option<Got<'a>> {
        match v {
            J::Number(n) => n.as_f64().map(Got::Num),
            J::String(s) => Some(Got::Text(s)),
            J::Bool(b) => Some(Got::Num(*b as u8 as f64)),
            _ => None,
        }
    }
}

/// Relative tolerance for plain numbers: the sources state floats as Python printed them,
/// which we cannot match bit for bit from an f32 wire value.
pub const REL: f64 = 1e-6;

/// Whether `got` satisfies `expected`; the error says how not.
///
/// * `null`, or the text `"error"` (Home Assistant's state for a value it could not read):
///   the value must be absent.
/// * a boolean: the published 0/1 (bleparser publishes binary states as numbers).
/// * a number: within [`REL`] of the larger magnitude (1 for values near zero).
/// * `{"approx": x, "abs": tol}`: within `tol` of `x`.
/// * a string: exactly.
pub fn matches(expected: &J, got: Option<Got<'_>>) -> Result<(), String> {
    let num = |g: Option<Got<'_>>| match g {
        Some(Got::Num(x)) => Some(x),
        _ => None,
    };
    match (expected, got) {
        (J::Null, None) => Ok(()),
        (J::String(s), None) if s == "error" => Ok(()),
        (J::Null, Some(g)) => Err(format!("expected absent, got {g:?}")),
        (J::String(s), Some(g)) if s == "error" => {
            Err(format!("expected absent (source: error), got {g:?}"))
        }
        (_, None) => Err(format!("expected {expected}, missing")),
        (J::Bool(b), g) => match num(g) {
            Some(x) if x == *b as u8 as f64 => Ok(()),
            _ => Err(format!("expected {b}, got {g:?}")),
        },
        (J::Number(n), g) => {
            let e = n.as_f64().unwrap_or(f64::NAN);
            match num(g) {
                Some(x) if (e - x).abs() <= REL * e.abs().max(x.abs()).max(1.0) => Ok(()),
                _ => Err(format!("expected {e}, got {g:?}")),
            }
        }
        (J::String(s), Some(Got::Text(t))) if s == t => Ok(()),
        (J::Object(o), g) if o.contains_key("approx") => {
            let e = o["approx"].as_f64().unwrap_or(f64::NAN);
            let tol = o.get("abs").and_then(J::as_f64).unwrap_or(REL);
            match num(g) {
                Some(x) if (e - x).abs() <= tol => Ok(()),
                _ => Err(format!("expected ≈{e}±{tol}, got {g:?}")),
            }
        }
        (_, g) => Err(format!("expected {expected}, got {g:?}")),
    }
}
