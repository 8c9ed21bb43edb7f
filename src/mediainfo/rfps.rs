//! FFmpeg's real-frame-rate guess (`ff_rfps_add_frame`, `ff_rfps_calculate` in
//! `libavformat/demux.c`, FFmpeg 5.1), replayed on the DTS values ffprobe would read.

use super::{gcd, reduce};

/// Candidate rates, in units of 1/(12×1001) fps (`get_std_framerate`): 1/12 to 30 fps in
/// steps of 1/12, 31 to 60 fps, 80, 120 and 240 fps, then 24, 30, 60, 12, 15 and 48 × 1000/1001.
const STD_RATES: usize = 30 * 12 + 30 + 3 + 6;

fn std_framerate(i: usize) -> i64 {
    let i = i as i64;
    if i < 360 {
        return (i + 1) * 1001;
    }
    let i = i - 360;
    if i < 30 {
        return (i + 31) * 1001 * 12;
    }
    let i = i - 30;
    if i < 3 {
        return [80, 120, 240][i as usize] * 1001 * 12;
    }
    [24, 30, 60, 12, 15, 48][(i - 3) as usize] * 1000 * 12
}

/// How well DTS values fall on one candidate rate's grid, against the grid itself (`[0]`) and
/// the grid shifted by half a frame (`[1]`).
#[derive(Clone, Default)]
struct Fit {
    sums: [f64; 2],
    squares: [f64; 2],
}

impl Fit {
    /// `sdts`: the DTS in frames of the candidate rate.
    fn add(&mut self, sdts: f64) {
        for j in 0..2 {
            let half = j as f64 * 0.5;
            // llrint() under the default rounding mode: ties to even.
            let error = sdts - (sdts + half).round_ties_even() + half;
            self.sums[j] += error;
            self.squares[j] += error * error;
        }
    }

    fn variance(&self, j: usize, n: usize) -> f64 {
        let a = self.sums[j] / n as f64;
        self.squares[j] / n as f64 - a * a
    }
}

/// The rate guessed from `dts` (in units of 1/`tb_den` s), using at most `max_deltas` increasing
/// deltas within `limit_s` seconds of the first; `None` when FFmpeg would find none.
pub(super) fn guess(
    dts: &[i64],
    tb_den: i64,
    max_deltas: usize,
    limit_s: f64,
) -> Option<(i64, i64)> {
    let tb = 1.0 / tb_den as f64;
    let mut fits = vec![Fit::default(); STD_RATES];
    let mut count = 0usize;
    let mut sum = 0i64;
    let mut dur_gcd = 0i64;
    let mut last: Option<i64> = None;
    let first = *dts.first()?;
    for &ts in dts {
        if count >= max_deltas || ts.saturating_sub(first) as f64 * tb >= limit_s {
            break;
        }
        if let Some(l) = last.filter(|&l| ts > l) {
            let t = ts as f64 * tb;
            let duration = ts.saturating_sub(l);
            for (i, fit) in fits.iter_mut().enumerate() {
                if fit.squares[0] < 1e10 {
                    fit.add(t * std_framerate(i) as f64 / (1001.0 * 12.0));
                }
            }
            count += 1;
            sum = sum.saturating_add(duration);
            // Every 10 deltas, rates that fit neither grid are dropped.
            if count.is_multiple_of(10) {
                for fit in &mut fits {
                    if fit.squares[0] < 1e10
                        && fit.variance(0, count) > 0.04
                        && fit.variance(1, count) > 0.04
                    {
                        fit.squares = [2e10; 2];
                    }
                }
            }
            // The first 4 deltas may jitter.
            if count > 3 {
                dur_gcd = gcd(dur_gcd, duration);
            }
        }
        last = Some(ts);
    }
    if count > 15 && dur_gcd > (tb_den / 500).max(1) {
        return Some(reduce(tb_den, dur_gcd));
    }
    if count <= 1 {
        return None;
    }
    let mean_delta_s = tb * sum as f64 / count as f64;
    let mut best_error = 0.01;
    let mut best = 0i64;
    for (i, fit) in fits.iter().enumerate() {
        let rate = std_framerate(i);
        // Below 1 fps is never guessed from a short analysis.
        if rate < 1001 * 12 {
            continue;
        }
        if mean_delta_s < (1001.0 * 12.0 * 0.8) / rate as f64 {
            continue;
        }
        for j in 0..2 {
            let error = fit.variance(j, count);
            if error < best_error && best_error > 0.000000001 {
                best_error = error;
                best = rate;
            }
        }
    }
    // Never more than 1 % above the time base's own rate.
    (best != 0 && (best as f64 / (12.0 * 1001.0)) < 1.01 * tb_den as f64)
        .then(|| reduce(best, 12 * 1001))
}
