//! The wall-clock axis: a linear map from Unix milliseconds to px, tick steps from a second to
//! years chosen so tick labels never overlap, and UTC (proleptic Gregorian, Unix time without
//! leap seconds) and Unix-second tick labels.

use super::svg::{CHAR_W, cols};

/// Tick steps in seconds, each a round number on a clock or calendar.
const STEPS_S: &[i64] = &[
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    14 * 86_400,
    28 * 86_400,
    91 * 86_400,
    365 * 86_400,
];

/// Unix milliseconds → x in px, over `[t0_ms, t1_ms]` drawn on `[x0, x0 + width]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    pub(crate) t0_ms: i64,
    pub(crate) t1_ms: i64,
    pub(crate) x0: f64,
    pub(crate) width: f64,
}

impl Scale {
    /// A scale covering `[lo_ms, hi_ms]` with a little room on both sides; at least one second.
    pub(crate) fn covering(lo_ms: i64, hi_ms: i64, x0: f64, width: f64) -> Scale {
        let (lo, hi) = (lo_ms.min(hi_ms), lo_ms.max(hi_ms));
        let span = (hi as i128 - lo as i128).max(1000);
        let pad = span / 50;
        let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        Scale {
            t0_ms: clamp(lo as i128 - pad),
            t1_ms: clamp(lo as i128 + span + pad),
            x0,
            width,
        }
    }

    pub(crate) fn x(&self, ms: i64) -> f64 {
        let span = (self.t1_ms as f64 - self.t0_ms as f64).max(1.0);
        self.x0 + (ms as f64 - self.t0_ms as f64) / span * self.width
    }

    /// `x` kept inside the plot.
    pub(crate) fn x_clamped(&self, ms: i64) -> f64 {
        self.x(ms).clamp(self.x0, self.x0 + self.width)
    }

    /// Px per millisecond.
    pub(crate) fn px_per_ms(&self) -> f64 {
        self.width / (self.t1_ms as f64 - self.t0_ms as f64).max(1.0)
    }
}

/// One tick: its time and label lines (date only where the day changes, time of day, Unix s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tick {
    pub(crate) ms: i64,
    pub(crate) date: Option<String>,
    pub(crate) time: Option<String>,
    pub(crate) unix: String,
}

/// Widest a tick label may be, in px, plus the space kept between neighbours.
fn label_room_px(scale: &Scale) -> f64 {
    let unix_cols = [scale.t0_ms, scale.t1_ms]
        .iter()
        .map(|ms| cols(&ms.div_euclid(1000).to_string()))
        .max()
        .unwrap_or(10);
    unix_cols.max(10) as f64 * CHAR_W + 14.0
}

/// The smallest round step whose ticks sit far enough apart for their labels.
pub(crate) fn step_s(scale: &Scale) -> i64 {
    let room = label_room_px(scale);
    let px_per_s = scale.px_per_ms() * 1000.0;
    if let Some(&s) = STEPS_S.iter().find(|&&s| s as f64 * px_per_s >= room) {
        return s;
    }
    // Beyond a year: decades, centuries… (bounded: i64 ms spans fewer than 10^9 years).
    let mut s: i64 = 10 * 365 * 86_400;
    while (s as f64) * px_per_s < room && s < i64::MAX / 10 {
        s *= 10;
    }
    s
}

/// The ticks of the scale.
pub(crate) fn ticks(scale: &Scale) -> Vec<Tick> {
    let step = step_s(scale) as i128;
    let t0_s = (scale.t0_ms as i128).div_euclid(1000);
    let t1_s = (scale.t1_ms as i128).div_euclid(1000);
    let mut t = (t0_s + step - 1).div_euclid(step) * step;
    if t * 1000 < scale.t0_ms as i128 {
        t += step;
    }
    let mut out = Vec::new();
    let mut last_day = None;
    while t <= t1_s {
        let ms = (t * 1000) as i64;
        let (date, time) = utc_parts(ms);
        let day = ms.div_euclid(86_400_000);
        let show_date = last_day != Some(day);
        last_day = Some(day);
        let time = if step >= 86_400 {
            None
        } else if step >= 60 {
            time.get(..5).map(str::to_string)
        } else {
            Some(time)
        };
        out.push(Tick {
            ms,
            date: show_date.then_some(date),
            time,
            unix: t.to_string(),
        });
        t += step;
    }
    out
}

/// `("2025-11-25", "13:00:00")` for a Unix millisecond.
pub(crate) fn utc_parts(ms: i64) -> (String, String) {
    let (y, m, d, h, mi, s, _) = crate::wallclock::utc_fields(ms);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{h:02}:{mi:02}:{s:02}"),
    )
}

/// `2025-11-25 13:00:00.123` (UTC).
pub(crate) fn utc_ms(ms: i64) -> String {
    let (date, time) = utc_parts(ms);
    format!("{date} {time}.{:03}", ms.rem_euclid(1000))
}

/// A short duration for labels: `850ms`, `20.2s`, `4m05s`, `11h00m`, `3d04h`.
pub(crate) fn short_duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    if ms < 1000 {
        format!("{sign}{ms}ms")
    } else if ms < 60_000 {
        format!("{sign}{}.{}s", ms / 1000, ms / 100 % 10)
    } else if ms < 3_600_000 {
        format!("{sign}{}m{:02}s", ms / 60_000, ms / 1000 % 60)
    } else if ms < 86_400_000 {
        format!("{sign}{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60)
    } else {
        format!("{sign}{}d{:02}h", ms / 86_400_000, ms / 3_600_000 % 24)
    }
}
