//! The clock port. Time is injected so tests can fix or move it.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn from_unix(secs: i64) -> Timestamp {
        Timestamp(OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH))
    }

    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// `2026-11-26T04:00:00Z`.
    pub fn rfc3339(self) -> String {
        self.0
            .replace_nanosecond(0)
            .unwrap_or(self.0)
            .format(&Rfc3339)
            .unwrap_or_default()
    }

    /// `2026-11-26`.
    pub fn date(self) -> String {
        let d = self.0.date();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }

    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(s, &Rfc3339).ok().map(Timestamp)
    }
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_and_date() {
        let t = Timestamp::from_unix(1_795_651_200);
        assert_eq!(t.rfc3339(), "2026-11-26T00:00:00Z");
        assert_eq!(t.date(), "2026-11-26");
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
    }
}
