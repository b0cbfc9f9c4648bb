//! Timestamps are Unix seconds (UTC); dates are shown in the site's time zone. The time now
//! comes from the application's `Clock`.
//!
//! Written out by hand rather than with `strftime`: a page of replies formats two dates a
//! reply, and parsing the format each time was 3% of rendering an article page (perf); the
//! tests check every form against `strftime`'s.

use std::fmt::Write;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{TimeZone, TimeZoneOffsetInfo};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The moment in `tz`: its wall-clock time and its offset and abbreviation there.
fn local(unix: i64, tz: &TimeZone) -> (DateTime, TimeZoneOffsetInfo<'_>) {
    let at = Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH);
    let info = tz.to_offset_info(at);
    (info.offset().to_datetime(at), info)
}

/// `24 November 2026`
fn write_long_date(out: &mut String, at: &DateTime) {
    let month = MONTHS[(at.month() - 1) as usize];
    let _ = write!(out, "{} {month} {:04}", at.day(), at.year());
}

/// ` GMT`: the zone's abbreviation, in capitals as `strftime`'s `%Z` writes it.
fn write_abbreviation(out: &mut String, info: &TimeZoneOffsetInfo<'_>) {
    out.push(' ');
    out.extend(info.abbreviation().chars().map(|c| c.to_ascii_uppercase()));
}

/// `2026/11/24`: the date part of an article's URL.
pub fn date_path(unix: i64, tz: &TimeZone) -> String {
    let (at, _) = local(unix, tz);
    format!("{:04}/{:02}/{:02}", at.year(), at.month(), at.day())
}

/// `2026-11-24T14:05:00+01:00`, for `<time datetime>`.
pub fn iso(unix: i64, tz: &TimeZone) -> String {
    let (at, info) = local(unix, tz);
    let offset = info.offset().seconds();
    let sign = if offset < 0 { '-' } else { '+' };
    let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{hours:02}:{minutes:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `24 November 2026`, for people.
pub fn long_date(unix: i64, tz: &TimeZone) -> String {
    let (at, _) = local(unix, tz);
    let mut out = String::with_capacity(20);
    write_long_date(&mut out, &at);
    out
}

/// `1 December 2026, 09:14:05 GMT`: to the second, where two saves a minute apart must be told
/// apart (revisions).
pub fn date_and_seconds(unix: i64, tz: &TimeZone) -> String {
    let (at, info) = local(unix, tz);
    let mut out = String::with_capacity(32);
    write_long_date(&mut out, &at);
    let _ = write!(out, ", {:02}:{:02}:{:02}", at.hour(), at.minute(), at.second());
    write_abbreviation(&mut out, &info);
    out
}

/// `1 December 2026, 09:14 GMT`: a moment as readers and staff are shown it, in the site's
/// time zone with its abbreviation from the time zone database (`GMT` or `BST` in London,
/// `UTC` by default), or its offset (`-03`) where the zone has none.
pub fn date_and_time(unix: i64, tz: &TimeZone) -> String {
    let (at, info) = local(unix, tz);
    let mut out = String::with_capacity(32);
    write_long_date(&mut out, &at);
    let _ = write!(out, ", {:02}:{:02}", at.hour(), at.minute());
    write_abbreviation(&mut out, &info);
    out
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

    /// Each form is what `strftime` writes, across zones, offsets and the years' ends.
    #[test]
    fn every_form_is_what_strftime_writes() {
        let zones = [
            TimeZone::UTC,
            TimeZone::get("Europe/London").unwrap(),
            TimeZone::get("Asia/Kolkata").unwrap(),
            TimeZone::get("America/St_Johns").unwrap(),
            TimeZone::get("Pacific/Chatham").unwrap(),
            TimeZone::fixed(jiff::tz::offset(-7)),
        ];
        let moments =
            [0, 1, 1_795_550_400, 1_782_900_000, 1_798_761_599, 1_798_761_600, 4_102_444_799];
        for tz in &zones {
            for &unix in &moments {
                let zoned = Timestamp::from_second(unix).unwrap().to_zoned(tz.clone());
                let strftime = |format: &str| zoned.strftime(format).to_string();
                assert_eq!(date_path(unix, tz), strftime("%Y/%m/%d"));
                assert_eq!(iso(unix, tz), strftime("%Y-%m-%dT%H:%M:%S%:z"));
                assert_eq!(long_date(unix, tz), strftime("%-d %B %Y"));
                assert_eq!(date_and_seconds(unix, tz), strftime("%-d %B %Y, %H:%M:%S %Z"));
                assert_eq!(date_and_time(unix, tz), strftime("%-d %B %Y, %H:%M %Z"));
            }
        }
    }
}
