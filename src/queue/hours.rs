//! Business hours: `mon-fri 08:00-17:00; sat 09:00-13:00` in a fixed UTC offset (`+03:00`).
//! Unset means always open.

use crate::domain::Millis;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    /// Per weekday (Monday = 0): open intervals in minutes after midnight.
    days: [Vec<(u16, u16)>; 7],
    offset: UtcOffset,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl BusinessHours {
    /// Parses `"mon-fri 08:00-17:00; sat 09:00-13:00"` with an offset like `"+03:00"`.
    pub fn parse(spec: &str, offset: &str) -> Result<BusinessHours, String> {
        let offset = parse_offset(offset).ok_or_else(|| format!("bad UTC offset {offset:?} (use e.g. +03:00)"))?;
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        for part in spec.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
            let (day_spec, range) =
                part.split_once(' ').ok_or_else(|| format!("{part:?}: expected DAYS HH:MM-HH:MM"))?;
            let day_index = |d: &str| DAYS.iter().position(|x| d.trim().to_lowercase().starts_with(x));
            let (first, last) = match day_spec.split_once('-') {
                Some((a, b)) => (day_index(a), day_index(b)),
                None => (day_index(day_spec), day_index(day_spec)),
            };
            let (Some(first), Some(last)) = (first, last) else {
                return Err(format!("{part:?}: days are mon, tue, wed, thu, fri, sat, sun"));
            };
            let (open, close) = range
                .trim()
                .split_once('-')
                .and_then(|(a, b)| Some((minutes(a.trim())?, minutes(b.trim())?)))
                .filter(|(a, b)| a < b)
                .ok_or_else(|| format!("{part:?}: expected a time range like 08:00-17:00"))?;
            let mut d = first;
            loop {
                days[d].push((open, close));
                if d == last {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        Ok(BusinessHours { days, offset })
    }

    fn local(&self, now: Millis) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(now as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(self.offset)
    }

    pub fn is_open(&self, now: Millis) -> bool {
        let t = self.local(now);
        let minute = t.hour() as u16 * 60 + t.minute() as u16;
        self.days[t.weekday().number_days_from_monday() as usize].iter().any(|(a, b)| minute >= *a && minute < *b)
    }

    /// When the team is next open: (weekday index, Monday = 0; "HH:MM" local time).
    pub fn next_open(&self, now: Millis) -> Option<(usize, String)> {
        let t = self.local(now);
        let today = t.weekday().number_days_from_monday() as usize;
        let minute = t.hour() as u16 * 60 + t.minute() as u16;
        for ahead in 0..8 {
            let d = (today + ahead) % 7;
            let mut opens: Vec<u16> = self.days[d].iter().map(|(a, _)| *a).collect();
            opens.sort();
            if let Some(open) = opens.into_iter().find(|o| ahead > 0 || *o > minute) {
                return Some((d, format!("{:02}:{:02}", open / 60, open % 60)));
            }
        }
        None
    }
}

const DAY_MS: i64 = 86_400_000;
/// How far the SLA arithmetic looks ahead or back (a year of days).
const MAX_DAYS: i64 = 400;

impl BusinessHours {
    /// Open intervals in absolute milliseconds on the local day `day` (days since the epoch).
    fn open_on(&self, day: i64) -> impl Iterator<Item = (Millis, Millis)> + '_ {
        let offset_ms = self.offset.whole_seconds() as i64 * 1000;
        // 1970-01-01 was a Thursday (Monday = 0).
        let weekday = (day + 3).rem_euclid(7) as usize;
        self.days[weekday].iter().map(move |(a, b)| {
            let start = day * DAY_MS - offset_ms;
            (start + *a as i64 * 60_000, start + *b as i64 * 60_000)
        })
    }

    fn local_day(&self, at: Millis) -> i64 {
        (at + self.offset.whole_seconds() as i64 * 1000).div_euclid(DAY_MS)
    }

    /// Open (business) milliseconds between `start` and `end`.
    pub fn open_ms_between(&self, start: Millis, end: Millis) -> i64 {
        if end <= start {
            return 0;
        }
        let (first, last) = (self.local_day(start), self.local_day(end));
        let mut total = 0;
        for day in first..=last.min(first + MAX_DAYS) {
            for (a, b) in self.open_on(day) {
                total += (b.min(end) - a.max(start)).max(0);
            }
        }
        total
    }

    /// The moment `open_ms` of business time have passed after `start`; `None` when the hours
    /// never open.
    pub fn after_open_ms(&self, start: Millis, open_ms: i64) -> Option<Millis> {
        let mut left = open_ms.max(0);
        let first = self.local_day(start);
        for day in first..=first + MAX_DAYS {
            let mut intervals: Vec<(Millis, Millis)> = self.open_on(day).collect();
            intervals.sort();
            for (a, b) in intervals {
                let from = a.max(start);
                if b <= from {
                    continue;
                }
                if b - from >= left {
                    return Some(from + left);
                }
                left -= b - from;
            }
        }
        None
    }
}

/// Business milliseconds between two moments: wall time when no hours are set.
pub fn open_ms_between(hours: Option<&BusinessHours>, start: Millis, end: Millis) -> i64 {
    match hours {
        Some(h) => h.open_ms_between(start, end),
        None => (end - start).max(0),
    }
}

/// When `open_ms` of business time will have passed after `start`.
pub fn after_open_ms(hours: Option<&BusinessHours>, start: Millis, open_ms: i64) -> Option<Millis> {
    match hours {
        Some(h) => h.after_open_ms(start, open_ms),
        None => Some(start + open_ms.max(0)),
    }
}

/// Parses a UTC offset ("+03:00", "-05:30", "Z", "UTC"); real offsets lie within ±14:00.
pub fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if s.is_empty() || s == "Z" || s == "UTC" {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, &s[1..]),
        b'-' => (-1i8, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// Weekday names per locale for "we are back on …".
pub fn weekday_name(index: usize, locale: crate::domain::Locale) -> &'static str {
    const EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    const SW: [&str; 7] = ["Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili"];
    match locale {
        crate::domain::Locale::En => EN[index % 7],
        crate::domain::Locale::Sw => SW[index % 7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RFC 3339 instant in epoch milliseconds.
    fn parse_timestamp(s: &str) -> Option<Millis> {
        let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        Some((t.unix_timestamp_nanos() / 1_000_000) as Millis)
    }

    #[test]
    fn open_and_closed_in_local_time() {
        let h = BusinessHours::parse("mon-fri 08:00-17:00; sat 09:00-13:00", "+03:00").unwrap();
        // Thursday 2026-11-26 06:00 UTC = 09:00 in Dar es Salaam.
        assert!(h.is_open(parse_timestamp("2026-11-26T06:00:00Z").unwrap()));
        // 04:59 UTC = 07:59 local: closed; opens at 08:00 today.
        let early = parse_timestamp("2026-11-26T04:59:00Z").unwrap();
        assert!(!h.is_open(early));
        assert_eq!(h.next_open(early), Some((3, "08:00".into())));
        // Saturday 14:00 local: closed until Monday 08:00.
        let sat = parse_timestamp("2026-11-28T11:00:00Z").unwrap();
        assert!(!h.is_open(sat));
        assert_eq!(h.next_open(sat), Some((0, "08:00".into())));
    }

    #[test]
    fn business_time_skips_closed_hours() {
        let h = BusinessHours::parse("mon-fri 08:00-17:00", "+03:00").unwrap();
        let t = |s: &str| parse_timestamp(s).unwrap();
        // Friday 16:00 local (13:00 UTC) to Monday 09:00 local (06:00 UTC): 1 h + 1 h open.
        assert_eq!(h.open_ms_between(t("2026-11-27T13:00:00Z"), t("2026-11-30T06:00:00Z")), 2 * 3_600_000);
        // Two hours of business time from Friday 16:00 local end Monday 09:00 local.
        assert_eq!(h.after_open_ms(t("2026-11-27T13:00:00Z"), 2 * 3_600_000), Some(t("2026-11-30T06:00:00Z")));
        // Within one open day both are plain arithmetic.
        assert_eq!(h.open_ms_between(t("2026-11-26T06:00:00Z"), t("2026-11-26T06:30:00Z")), 1_800_000);
        assert_eq!(open_ms_between(None, 0, 5_000), 5_000);
        assert_eq!(after_open_ms(None, 10, 5), Some(15));
        let never = BusinessHours::parse("", "+03:00").unwrap();
        assert_eq!(never.after_open_ms(0, 1), None);
    }

    #[test]
    fn bad_specs_are_explained() {
        assert!(BusinessHours::parse("someday 08:00-17:00", "+03:00").unwrap_err().contains("days are"));
        assert!(BusinessHours::parse("mon 17:00-08:00", "+03:00").unwrap_err().contains("time range"));
        assert!(BusinessHours::parse("mon 08:00-17:00", "EAT").unwrap_err().contains("offset"));
        for bad in ["+99:99", "+15:00", "+03:60", "3", "+-3"] {
            assert!(parse_offset(bad).is_none(), "{bad}");
        }
        assert!(parse_offset("-05:30").is_some() && parse_offset("+14:00").is_some());
    }
}
