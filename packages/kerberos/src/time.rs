//! KerberosTime (GeneralizedTime, whole seconds, UTC) and microseconds.

use picky_asn1::date::GeneralizedTime;
use picky_krb::data_types::KerberosTime;
use sspi_core::TimeStamp;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as Kerberos carries it: Unix seconds and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KrbTime {
    /// Seconds since 1970-01-01 UTC.
    pub secs: i64,
    /// Microseconds, 0..=999999.
    pub usec: u32,
}

impl KrbTime {
    /// Now.
    pub fn now() -> KrbTime {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => KrbTime {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                usec: d.subsec_micros(),
            },
            Err(_) => KrbTime { secs: 0, usec: 0 },
        }
    }

    /// Whole seconds.
    pub fn from_secs(secs: i64) -> KrbTime {
        KrbTime { secs, usec: 0 }
    }

    /// This time plus `secs` seconds (saturating).
    pub fn plus(self, secs: i64) -> KrbTime {
        KrbTime {
            secs: self.secs.saturating_add(secs),
            usec: self.usec,
        }
    }

    /// The KerberosTime of the whole seconds.
    pub fn to_kerberos(self) -> KerberosTime {
        to_kerberos_time(self.secs)
    }

    /// The SSPI timestamp.
    pub fn to_timestamp(self) -> TimeStamp {
        let secs = u64::try_from(self.secs.max(0)).unwrap_or(0);
        TimeStamp::from_system_time(
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(u64::from(self.usec)),
        )
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds as a KerberosTime (clamped to years 1970..=9999).
pub fn to_kerberos_time(secs: i64) -> KerberosTime {
    let secs = secs.clamp(0, 253_402_300_799);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let date = GeneralizedTime::new(
        y as u16,
        m as u8,
        d as u8,
        (rem / 3600) as u8,
        (rem % 3600 / 60) as u8,
        (rem % 60) as u8,
    )
    .or_else(|| GeneralizedTime::new(1970, 1, 1, 0, 0, 0))
    .expect("the clamped date and the epoch are valid GeneralizedTimes");
    KerberosTime::from(date)
}

/// A KerberosTime as Unix seconds.
pub fn from_kerberos_time(time: &KerberosTime) -> i64 {
    let t = &time.0;
    days_from_civil(
        i64::from(t.year()),
        i64::from(t.month()),
        i64::from(t.day()),
    ) * 86_400
        + i64::from(t.hour()) * 3600
        + i64::from(t.minute()) * 60
        + i64::from(t.second())
}

/// A Microseconds INTEGER's value (0 when out of range or malformed).
pub fn microseconds(value: &picky_asn1::wrapper::IntegerAsn1) -> u32 {
    let bytes = value.as_unsigned_bytes_be();
    if bytes.len() > 4 || value.is_negative() {
        return 0;
    }
    let v = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    if v > 999_999 { 0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for secs in [0i64, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(from_kerberos_time(&to_kerberos_time(secs)), secs);
        }
        let der = picky_asn1_der::to_vec(&to_kerberos_time(1_700_000_000)).unwrap();
        assert_eq!(&der[2..], b"20231114221320Z");
    }
}
