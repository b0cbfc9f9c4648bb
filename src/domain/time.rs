//! Timestamps are Unix seconds (UTC); dates are shown in the site's time zone. The time now
//! comes from the application's `Clock`.

use jiff::{Timestamp, tz::TimeZone};

fn zoned(unix: i64, tz: &TimeZone) -> jiff::Zoned {
    Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone())
}

/// `2026/11/24`: the date part of an article's URL.
pub fn date_path(unix: i64, tz: &TimeZone) -> String {
    zoned(unix, tz).strftime("%Y/%m/%d").to_string()
}

/// `2026-11-24T14:05:00+01:00`, for `<time datetime>`.
pub fn iso(unix: i64, tz: &TimeZone) -> String {
    zoned(unix, tz).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// `24 November 2026`, for people.
pub fn long_date(unix: i64, tz: &TimeZone) -> String {
    zoned(unix, tz).strftime("%-d %B %Y").to_string()
}

/// `1 December 2026, 09:14:05 GMT`: to the second, where two saves a minute apart must be told
/// apart (revisions).
pub fn date_and_seconds(unix: i64, tz: &TimeZone) -> String {
    zoned(unix, tz).strftime("%-d %B %Y, %H:%M:%S %Z").to_string()
}

/// `1 December 2026, 09:14 GMT`: a moment as readers and staff are shown it, in the site's
/// time zone with its abbreviation from the time zone database (`GMT` or `BST` in London,
/// `UTC` by default), or its offset (`-03`) where the zone has none.
pub fn date_and_time(unix: i64, tz: &TimeZone) -> String {
    zoned(unix, tz).strftime("%-d %B %Y, %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_path_follows_the_time_zone() {
        let late_evening_utc = 1_795_550_400; // 2026-11-24T20:00:00Z
        assert_eq!(date_path(late_evening_utc, &TimeZone::UTC), "2026/11/24");
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(date_path(late_evening_utc, &tokyo), "2026/11/25");
        assert_eq!(iso(late_evening_utc, &tokyo), "2026-11-25T05:00:00+09:00");
        assert_eq!(long_date(late_evening_utc, &TimeZone::UTC), "24 November 2026");
        assert_eq!(date_and_time(late_evening_utc, &TimeZone::UTC), "24 November 2026, 20:00 UTC");
        let london = TimeZone::get("Europe/London").unwrap();
        assert_eq!(date_and_time(late_evening_utc, &london), "24 November 2026, 20:00 GMT");
        let summer = 1_782_900_000; // 2026-07-01T10:00:00Z
        assert_eq!(date_and_time(summer, &london), "1 July 2026, 11:00 BST");
        let sao_paulo = TimeZone::get("America/Sao_Paulo").unwrap();
        assert_eq!(date_and_time(summer, &sao_paulo), "1 July 2026, 07:00 -03");
    }
}
