//! Event time as RFC 3339 in UTC with milliseconds (`2026-11-21T07:17:09.123Z`).
//!
//! The calendar conversion is the proleptic Gregorian "civil from days" algorithm (the one
//! Howard Hinnant describes), written out here so rendering needs no date crate.

/// Writes `millis` since the Unix epoch as a JSON string. Years after 9999 (only from damaged
/// input) are written with as many digits as they need, which RFC 3339 does not allow but keeps
/// the value unambiguous.
pub fn rfc3339_millis(out: &mut Vec<u8>, millis: u64) {
    let secs = millis / 1000;
    let ms = (millis % 1000) as u32;
    let days = secs / 86_400;
    let of_day = (secs % 86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    out.push(b'"');
    if year < 10_000 {
        push_digits(out, year as u32, 4);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(year).as_bytes());
    }
    out.push(b'-');
    push_digits(out, month, 2);
    out.push(b'-');
    push_digits(out, day, 2);
    out.push(b'T');
    push_digits(out, of_day / 3600, 2);
    out.push(b':');
    push_digits(out, of_day / 60 % 60, 2);
    out.push(b':');
    push_digits(out, of_day % 60, 2);
    out.push(b'.');
    push_digits(out, ms, 3);
    out.extend_from_slice(b"Z\"");
}

/// Returns `(year, month 1–12, day 1–31)` of the day `days` after 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1, [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn push_digits(out: &mut Vec<u8>, n: u32, width: u32) {
    let mut div = 10u32.pow(width - 1);
    while div > 0 {
        out.push(b'0' + (n / div % 10) as u8);
        div /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(millis: u64) -> String {
        let mut out = Vec::new();
        rfc3339_millis(&mut out, millis);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn epoch_and_milliseconds() {
        assert_eq!(t(0), r#""1970-01-01T00:00:00.000Z""#);
        assert_eq!(t(1), r#""1970-01-01T00:00:00.001Z""#);
        assert_eq!(t(999), r#""1970-01-01T00:00:00.999Z""#);
        assert_eq!(t(1_795_242_165_039), r#""2026-11-21T06:22:45.039Z""#);
        assert_eq!(t(86_399_999), r#""1970-01-01T23:59:59.999Z""#);
    }

    #[test]
    fn leap_years() {
        // 2000 is a leap year (divisible by 400), 1900 and 2100 are not.
        assert_eq!(t(951_782_400_000), r#""2000-02-29T00:00:00.000Z""#);
        assert_eq!(t(951_868_800_000), r#""2000-03-01T00:00:00.000Z""#);
        assert_eq!(t(1_709_164_800_123), r#""2024-02-29T00:00:00.123Z""#);
        assert_eq!(t(1_740_787_200_000), r#""2025-03-01T00:00:00.000Z""#);
        assert_eq!(t(4_107_542_400_000), r#""2100-03-01T00:00:00.000Z""#);
        assert_eq!(t(4_107_542_399_000), r#""2100-02-28T23:59:59.000Z""#);
        assert_eq!(t(1_704_067_199_500), r#""2023-12-31T23:59:59.500Z""#);
        assert_eq!(t(1_735_603_200_000), r#""2024-12-31T00:00:00.000Z""#);
    }

    #[test]
    fn far_future_from_damaged_input() {
        assert_eq!(t(253_402_300_799_999), r#""9999-12-31T23:59:59.999Z""#);
        assert_eq!(t(253_402_300_800_000), r#""10000-01-01T00:00:00.000Z""#);
        // Saturated timestamps still render.
        assert_eq!(t(u64::MAX), r#""584556019-04-03T14:25:51.615Z""#);
    }
}
