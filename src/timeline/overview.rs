//! The picture of a run with more stream keys than bands fit ([`MAX_BANDS`]): one shared
//! wall-clock axis and summary lanes, each lane the stream keys of a run of consecutive ones
//! (at most [`MAX_LANES`] lanes), their pushes and files merged where they are closer than
//! [`MERGE_PX`]. The number of shapes is bounded by lanes × width / [`MERGE_PX`], so the
//! document's size is bounded by the picture, not by the pushes or the streams.
//!
//! Every shape names its stream keys and counts on hover; the HTML page also lists every file
//! by name under the picture ([`file_list`]), since one tooltip per file is what made a picture
//! of 100 000 pushes weigh 100 MB.

use std::fmt::Write as _;

use crate::report::StreamReport;
use crate::rules::duration_display;

use super::axis::Scale;
use super::band::{self, Frame, OnWallClock};
use super::palette;
use super::svg::{Anchor, BoxPx, LINE_H, Svg, ellipsize, esc};
use super::tips::{file_name, file_reasons, wall_span};

/// More stream keys than this: the summary lanes replace the bands.
pub(crate) const MAX_BANDS: usize = 24;
/// Most summary lanes.
pub(crate) const MAX_LANES: usize = 64;
/// Shapes of one lane closer than this (px) are merged.
pub(crate) const MERGE_PX: f64 = 6.0;
/// Most stream keys a tooltip names.
const TIP_KEYS: usize = 8;

const LANE_H: f64 = 22.0;
const PUSH_H: f64 = 9.0;
const FILE_H: f64 = 9.0;

/// Draws the summary with its top at `top`; returns the y below it.
pub(crate) fn draw(svg: &mut Svg, streams: &[StreamReport], frame: &Frame, top: f64) -> f64 {
    let Some((lo, hi)) = streams
        .iter()
        .filter_map(band::extent)
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    else {
        return top;
    };
    let scale = Scale::covering(lo, hi, frame.x0, frame.plot_w);
    let per = streams.len().div_ceil(MAX_LANES).max(1);
    let lanes: Vec<&[StreamReport]> = streams.chunks(per).collect();
    let pushes: usize = streams.iter().map(|r| r.sessions.len()).sum();
    let files: usize = streams.iter().map(|r| r.files.len()).sum();
    let head = format!(
        "{} stream keys, {pushes} pushes, {files} files: too many for a band each, so {} \
         summary lanes of {per} stream key{} each (hover a shape for its keys and counts{})",
        streams.len(),
        lanes.len(),
        if per == 1 { "" } else { "s" },
        ", the HTML page lists every file"
    );
    svg.text(8.0, top + 12.0, Anchor::Start, "m", &ellipsize(&head, 200));
    // The axis's three label lines sit under the heading, the lanes under them.
    let axis_top = top + 30.0 - band::AXIS_Y;
    let rows_top = top + 30.0 + 3.0 * LINE_H;
    let bottom = rows_top + lanes.len() as f64 * LANE_H;
    band::draw_axis(svg, &scale, frame, axis_top, bottom);
    for (i, lane) in lanes.iter().enumerate() {
        draw_lane(svg, lane, &scale, rows_top + i as f64 * LANE_H);
    }
    bottom + 22.0
}

/// The first and last key of a lane, and its short label.
fn lane_name(lane: &[StreamReport]) -> (String, String) {
    let key = |r: &StreamReport| format!("{}/{}", r.app, r.stream);
    match lane {
        [] => (String::new(), String::new()),
        [one] => (key(one), ellipsize(&one.stream, 12)),
        [first, .., last] => (
            format!(
                "{} … {} ({} stream keys)",
                key(first),
                key(last),
                lane.len()
            ),
            format!("{} +{}", ellipsize(&first.stream, 8), lane.len() - 1),
        ),
    }
}

/// One merged shape: its span and which stream keys (by index in the lane) it holds.
struct Merged {
    start_ms: i64,
    end_ms: i64,
    count: usize,
    media_ms: i64,
    keys: Vec<usize>,
}

/// Spans (start, end, key) merged where closer than [`MERGE_PX`].
fn merge(mut spans: Vec<(i64, i64, usize)>, scale: &Scale) -> Vec<Merged> {
    spans.sort_unstable();
    let mut out: Vec<Merged> = Vec::new();
    for (s, e, k) in spans {
        let e = e.max(s);
        match out.last_mut() {
            Some(m) if scale.x(s) < scale.x(m.end_ms) + MERGE_PX => {
                m.end_ms = m.end_ms.max(e);
                m.count += 1;
                m.media_ms = m.media_ms.saturating_add(e - s);
                if m.keys.last() != Some(&k) && !m.keys.contains(&k) {
                    m.keys.push(k);
                }
            }
            _ => out.push(Merged {
                start_ms: s,
                end_ms: e,
                count: 1,
                media_ms: e - s,
                keys: vec![k],
            }),
        }
    }
    out
}

fn tip(what: &str, m: &Merged, lane: &[StreamReport]) -> String {
    let mut t = format!(
        "{} {what} of {} stream key{}\n{}\n{} in all",
        m.count,
        m.keys.len(),
        if m.keys.len() == 1 { "" } else { "s" },
        wall_span(m.start_ms, m.end_ms),
        duration_display(m.media_ms)
    );
    for &k in m.keys.iter().take(TIP_KEYS) {
        let _ = write!(t, "\n{}/{}", lane[k].app, lane[k].stream);
    }
    if m.keys.len() > TIP_KEYS {
        let _ = write!(t, "\n… and {} more", m.keys.len() - TIP_KEYS);
    }
    t
}

/// Every push or file of a lane's stream keys, with the index of its key in the lane.
fn lane_spans<T: OnWallClock>(
    lane: &[StreamReport],
    items: fn(&StreamReport) -> &[T],
) -> Vec<(i64, i64, usize)> {
    let mut spans = Vec::new();
    for (k, r) in lane.iter().enumerate() {
        spans.extend(items(r).iter().map(|item| {
            let (start, end) = item.wall_ms();
            (start, end, k)
        }));
    }
    spans
}

fn draw_lane(svg: &mut Svg, lane: &[StreamReport], scale: &Scale, top: f64) {
    let (name, label) = lane_name(lane);
    svg.group("band-title", &name);
    svg.text(8.0, top + 14.0, Anchor::Start, "m", &label);
    svg.end_group();
    let sessions = lane_spans(lane, |r| &r.sessions);
    let files = lane_spans(lane, |r| &r.files);
    let rows = [
        (
            sessions,
            "pushes",
            "push agg",
            palette::SESSION_AGG,
            top + 1.0,
            PUSH_H,
        ),
        (
            files,
            "files",
            "file agg",
            palette::FILE_AGG,
            top + 2.0 + PUSH_H,
            FILE_H,
        ),
    ];
    for (spans, what, class, fill, y, h) in rows {
        for m in merge(spans, scale) {
            svg.group(class, &tip(what, &m, lane));
            let x = scale.x_clamped(m.start_ms);
            let w = (scale.x_clamped(m.end_ms) - x).max(1.5);
            svg.rect(BoxPx { x, y, w, h }, fill, "");
            svg.end_group();
        }
    }
}

/// Every file of every stream key by name, one line each, for the HTML page: per key a line
/// with its directories, then per file its name (without the format's extension), length and
/// reasons, so 100 000 files stay a few MB.
pub(crate) fn file_list(streams: &[StreamReport]) -> String {
    let mut out = String::from("<details id=\"files\"><summary>every file</summary><pre>");
    for r in streams {
        let dirs: Vec<&str> = r
            .files
            .first()
            .map(|f| {
                f.keys
                    .iter()
                    .map(|k| k.rsplit_once('/').map_or("", |(d, _)| d))
                    .collect()
            })
            .unwrap_or_default();
        let head = format!(
            "{}/{}: {} file{} in {}",
            r.app,
            r.stream,
            r.files.len(),
            if r.files.len() == 1 { "" } else { "s" },
            dirs.join(" ")
        );
        let _ = writeln!(out, "{}", esc(&head));
        for (i, f) in r.files.iter().enumerate() {
            let line = format!(
                "  {}  {}  {}",
                file_name(f, i + 1),
                duration_display(f.len_ms),
                file_reasons(f)
            );
            let _ = writeln!(out, "{}", esc(&line));
        }
    }
    out.push_str("</pre></details>\n");
    out
}
