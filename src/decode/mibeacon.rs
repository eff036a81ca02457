//! Xiaomi MiBeacon (service data 0xFE95), versions 2–5.

use super::{Advert, Ctx, DecodeError, Format, Matcher, Reading};

pub static FORMAT: Format = Format { name: "mibeacon", matcher: Matcher::ServiceData16(0xFE95), decode };

fn decode(_ctx: &mut Ctx<'_>, _adv: &Advert<'_>, _data: &[u8], _out: &mut Reading) -> Result<(), DecodeError> {
    Err(DecodeError::NoData)
}
