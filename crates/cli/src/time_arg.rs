//! Times on the command line (`--since`, `--until`, `pid:N@TIME`): RFC 3339 in UTC
//! (`2026-11-21T06:22:47Z`, with optional `.mmm`), a date (`2026-11-21`, midnight UTC),
//! milliseconds since the epoch (`1795253260123`), or an age before now (`90s`, `15m`, `2h`,
//! `7d`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Parses a time into milliseconds since the epoch; `now_ms` anchors ages. The forms are the
/// filter language's (`store::syntax::parse_time`), so `--since` and `time>=` read the same.
pub fn parse(text: &str, now_ms: u64) -> Result<u64, String> {
    store::syntax::parse_time(text, Some(now_ms))
        .map_err(|_| format!("{text:?} is not a time (2026-11-21T06:22:47Z, 2026-11-21, epoch milliseconds, or an age such as 2h)"))
}

/// The wall clock in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
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
