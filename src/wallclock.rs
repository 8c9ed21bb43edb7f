//! Wall-clock times as users and logs write them.

/// A wall-clock time as users write it (`--start-time`, segment logs): Unix seconds (up to 10
/// digits), Unix milliseconds (13 digits), or RFC 3339 (`2020-04-02T12:06:27Z`,
/// `2020-04-02T20:06:27.5+08:00`). Returns Unix milliseconds.
pub(crate) fn parse_time_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().map_err(|_| format!("'{s}' is out of range"))?;
        return Ok(if s.len() >= 13 { n } else { n * 1000 });
    }
    parse_rfc3339_ms(s).ok_or_else(|| {
        format!(
            "'{s}' is not a time (Unix seconds, Unix ms, or RFC 3339 like 2020-04-02T12:06:27Z)"
        )
    })
}

/// RFC 3339 through the `time` crate, which refuses what is not a date (`2026-02-31`, hour 24),
/// as the calendar has it. A space may stand for the `T` (RFC 3339, section 5.6, note).
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let normalised;
    let s = match s.as_bytes().get(10) {
        Some(b' ') => {
            normalised = format!("{}T{}", &s[..10], &s[11..]);
            normalised.as_str()
        }
        _ => s,
    };
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date; `None` when it is not a date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    Some(i64::from(
        date.to_julian_day() - time::OffsetDateTime::UNIX_EPOCH.date().to_julian_day(),
    ))
}

/// `(year, month, day, hour, minute, second, millisecond)` of a Unix millisecond, UTC. Times
/// beyond the years -9999 to 9999 are shown as the nearest end of that range, so none panics.
pub(crate) fn utc_fields(unix_ms: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let min = time::PrimitiveDateTime::MIN.assume_utc().unix_timestamp() * 1000;
    let max = time::PrimitiveDateTime::MAX.assume_utc().unix_timestamp() * 1000 + 999;
    let ms = unix_ms.clamp(min, max);
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .expect("clamped to the supported range");
    (
        i64::from(t.year()),
        i64::from(u8::from(t.month())),
        i64::from(t.day()),
        i64::from(t.hour()),
        i64::from(t.minute()),
        i64::from(t.second()),
        ms.rem_euclid(1000),
    )
}

/// ISO 8601 / RFC 3339 UTC date-time with milliseconds: `2025-11-25T12:00:00.000Z`.
pub(crate) fn rfc3339_ms(unix_ms: i64) -> String {
    let (y, m, d, h, mi, s, ms) = utc_fields(unix_ms);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_764_075_600_123), "2025-11-25T13:00:00.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(days_from_civil(2026, 2, 29), None);
        assert_eq!(days_from_civil(2026, 13, 1), None);
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("1585829187"), Ok(1_585_829_187_000));
        assert_eq!(parse_time_ms("1585829187123"), Ok(1_585_829_187_123));
        assert_eq!(parse_time_ms("2020-04-02T12:06:27Z"), Ok(1_585_829_187_000));
        assert_eq!(
            parse_time_ms("2020-04-02T20:06:27.5+08:00"),
            Ok(1_585_829_187_500)
        );
        assert_eq!(parse_time_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time_ms("2024-02-29 00:00:00Z"), Ok(1_709_164_800_000));
        assert_eq!(
            parse_time_ms("2020-04-02t12:06:27.123456z"),
            Ok(1_585_829_187_123)
        );
        for bad in [
            "yesterday",
            "2020-13-01T00:00:00Z",
            "2020-04-02T12:06:27",
            "2020-04-02",
            "2026-02-31T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-04-31T12:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T12:60:00Z",
        ] {
            assert!(parse_time_ms(bad).is_err(), "{bad}");
        }
    }
}
