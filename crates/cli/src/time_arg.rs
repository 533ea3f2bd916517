//! Times on the command line (`--since`, `--until`, `pid:N@TIME`): RFC 3339 in UTC
//! (`2026-11-21T06:22:47Z`, with optional `.mmm`), a date (`2026-11-21`, midnight UTC),
//! milliseconds since the epoch (`1795253260123`), or an age before now (`90s`, `15m`, `2h`,
//! `7d`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Parses a time into milliseconds since the epoch; `now_ms` anchors ages.
pub fn parse(text: &str, now_ms: u64) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a time (2026-11-21T06:22:47Z, 2026-11-21, epoch milliseconds, or an age such as 2h)");
    if let Some((n, unit)) = text.find(|c: char| !c.is_ascii_digit()).map(|i| text.split_at(i)) {
        let scale = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => 0,
        };
        if scale > 0 && !n.is_empty() {
            let n: u64 = n.parse().map_err(|_| bad())?;
            return Ok(now_ms.saturating_sub(n.saturating_mul(scale)));
        }
    } else {
        return text.parse().map_err(|_| bad());
    }
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<u64, String> {
        let s = text.get(r).ok_or_else(bad)?;
        if s.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = days_from_civil(y as i64, m as i64, d as i64);
    let mut ms = u64::try_from(days).map_err(|_| bad())? * 86_400_000;
    if b.len() == 10 {
        return Ok(ms);
    }
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || !text.ends_with('Z') {
        return Err(bad());
    }
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    ms += (h * 3600 + mi * 60 + s) * 1000;
    match &text[19..] {
        "Z" => {}
        frac if frac.len() == 5 && frac.starts_with('.') => ms += num(20..23)?,
        _ => return Err(bad()),
    }
    Ok(ms)
}

/// The wall clock in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's days-from-civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn forms() {
        assert_eq!(parse("1970-01-02", 0), Ok(86_400_000));
        assert_eq!(parse("2026-11-21T06:22:47Z", 0), Ok(1_795_242_167_000));
        assert_eq!(parse("2026-11-21T06:22:47.047Z", 0), Ok(1_795_242_167_047));
        assert_eq!(parse("1795253260123", 0), Ok(1_795_253_260_123));
        assert_eq!(parse("2h", 10_000_000), Ok(10_000_000 - 7_200_000));
        assert_eq!(parse("2000-02-29", 0), Ok(951_782_400_000));
        assert!(parse("yesterday", 0).unwrap_err().starts_with("\"yesterday\" is not a time"));
        assert!(parse("2026-13-01", 0).is_err());
    }
}
