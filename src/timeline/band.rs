//! One stream key's band: title and settings, the wall-clock axis, a damage strip, the pushes
//! row (sessions, the gaps between them, the splice window after each), and the files row (bars
//! coloured by the reason they closed, with their slice and period marks), then a legend for the
//! labels that had no room.

use std::fmt::Write as _;

use crate::report::{FileSpan, SessionSpan, StreamReport};
use crate::rules::duration_display;

use super::axis::{self, Scale};
use super::cluster::{self, Lanes};
use super::svg::{Anchor, BoxPx, LINE_H, Svg, ellipsize, num, text_w};
use super::{palette, tips};

/// Horizontal geometry shared by all bands.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub(crate) width: f64,
    pub(crate) x0: f64,
    pub(crate) plot_w: f64,
}

/// Most legend rows a band lists before summarising the rest.
const LEGEND_MAX: usize = 40;
/// Longest name drawn, in columns (the tooltip has it whole).
const NAME_COLS: usize = 48;

// Vertical layout of a band, offsets from its top; the files row sits below the lanes the
// push labels used.
const TITLE_Y: f64 = 12.0;
pub(super) const AXIS_Y: f64 = 44.0;
const DAMAGE_TOP: f64 = 78.0;
const PUSH_TOP: f64 = 92.0;
const PUSH_H: f64 = 28.0;
const FILE_H: f64 = 24.0;
/// Label lanes under each row.
const LANES: usize = 2;

/// Draws `r` with its top at `top`; returns the y below it.
pub(crate) fn draw(svg: &mut Svg, r: &StreamReport, frame: &Frame, top: f64) -> f64 {
    let span = extent(r);
    let title = format!("{} / {}", r.app, r.stream);
    svg.group("band-title", &title);
    svg.text(
        8.0,
        top + TITLE_Y,
        Anchor::Start,
        "t",
        &ellipsize(&title, 120),
    );
    let settings = tips::settings_line(r, span);
    svg.text(
        8.0,
        top + TITLE_Y + LINE_H,
        Anchor::Start,
        "m",
        &ellipsize(&settings, 200),
    );
    svg.end_group();
    let Some((lo, hi)) = span else {
        svg.text(8.0, top + AXIS_Y, Anchor::Start, "m", "no push sessions");
        return top + AXIS_Y + 24.0;
    };
    let scale = Scale::covering(lo, hi, frame.x0, frame.plot_w);
    // Rows go to their own buffer first: the grid under them needs their height.
    let mut rows = Svg::default();
    let mut notes = Vec::new();
    let push_lanes = draw_sessions(&mut rows, r, &scale, frame, top, &mut notes);
    draw_damage(&mut rows, r, &scale, top);
    let file_top = top + PUSH_TOP + PUSH_H + push_lanes as f64 * LINE_H + 10.0;
    let (legend, file_lanes) = draw_files(&mut rows, r, &scale, frame, file_top, &mut notes);
    draw_axis(svg, &scale, frame, top, file_top + FILE_H + 4.0);
    for (y, label) in [
        (top + DAMAGE_TOP + 10.0, "damage"),
        (top + PUSH_TOP + 18.0, "pushes"),
        (file_top + 16.0, "files"),
    ] {
        svg.text(8.0, y, Anchor::Start, "m", label);
    }
    svg.append(rows);
    let mut y = file_top + FILE_H + file_lanes as f64 * 2.0 * LINE_H + 4.0;
    let shown = legend.len().min(LEGEND_MAX);
    for row in legend.iter().take(shown) {
        y += LINE_H;
        svg.text(frame.x0, y, Anchor::Start, "", row);
    }
    if legend.len() > shown {
        notes.push(format!(
            "… and {} more files without room for a label: hover the bars",
            legend.len() - shown
        ));
    }
    for n in notes {
        y += LINE_H;
        svg.text(frame.x0, y, Anchor::Start, "m", &n);
    }
    y + 22.0
}

/// A push or a file: what a row places on the wall clock.
pub(super) trait OnWallClock {
    /// Its start and end, milliseconds since the epoch.
    fn wall_ms(&self) -> (i64, i64);
}

impl OnWallClock for SessionSpan {
    fn wall_ms(&self) -> (i64, i64) {
        (self.wall_start_ms, self.wall_end_ms)
    }
}

impl OnWallClock for FileSpan {
    fn wall_ms(&self) -> (i64, i64) {
        (self.wall_start_ms, self.wall_end_ms)
    }
}

/// The indexes of `items` in start order (ties kept in their order), and their spans so ordered.
fn start_order<T: OnWallClock>(items: &[T]) -> (Vec<usize>, Vec<(i64, i64)>) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].wall_ms().0, i));
    let spans = order.iter().map(|&i| items[i].wall_ms()).collect();
    (order, spans)
}

/// The wall-clock range the band must show, `None` when it has nothing.
pub(super) fn extent(r: &StreamReport) -> Option<(i64, i64)> {
    let spans = r.sessions.iter().map(OnWallClock::wall_ms);
    let points = spans
        .chain(r.files.iter().map(OnWallClock::wall_ms))
        .flat_map(|(start, end)| [start, end])
        .chain(r.damage.iter().map(|d| d.wall_ms));
    points.fold(None, |acc, t| match acc {
        None => Some((t, t)),
        Some((a, b)) => Some((a.min(t), b.max(t))),
    })
}

pub(super) fn draw_axis(svg: &mut Svg, scale: &Scale, frame: &Frame, top: f64, grid_bottom: f64) {
    svg.text(8.0, top + AXIS_Y + LINE_H, Anchor::Start, "m", "UTC");
    svg.text(
        8.0,
        top + AXIS_Y + 2.0 * LINE_H,
        Anchor::Start,
        "m",
        "Unix s",
    );
    for t in axis::ticks(scale) {
        let x = scale.x(t.ms);
        svg.line(x, top + AXIS_Y + 2.0 * LINE_H + 4.0, x, grid_bottom, "grid");
        let lines = [t.date.as_deref(), t.time.as_deref(), Some(t.unix.as_str())];
        // Labels that would leave the picture or reach the row names stay off (the tick stays).
        let half = lines
            .iter()
            .flatten()
            .map(|l| text_w(l))
            .fold(0.0, f64::max)
            / 2.0;
        if x - half < 56.0 || x + half > frame.width - 2.0 {
            continue;
        }
        for (k, l) in lines.iter().enumerate() {
            if let Some(l) = l {
                svg.text(x, top + AXIS_Y + k as f64 * LINE_H, Anchor::Middle, "m", l);
            }
        }
    }
}

fn draw_sessions(
    svg: &mut Svg,
    r: &StreamReport,
    scale: &Scale,
    frame: &Frame,
    top: f64,
    notes: &mut Vec<String>,
) -> usize {
    let (order, spans) = start_order(&r.sessions);
    let groups = cluster::spans(&spans, scale);
    let row = top + PUSH_TOP;
    // Splice windows first: the pushes drawn after cover the part a resume used.
    draw_windows(svg, r, scale, &groups, &spans, row);
    draw_gaps(svg, r, scale, &groups, row);

    let mut lanes = Lanes::new(LANES, frame.x0, frame.width - 4.0);
    let mut unlabelled = 0;
    for (gi, g) in groups.iter().enumerate() {
        let members: Vec<_> = g.members.iter().map(|&k| &r.sessions[order[k]]).collect();
        let (tip, label, class, fill) = match members.as_slice() {
            [s] => {
                let gap = gi
                    .checked_sub(1)
                    .and_then(|p| groups.get(p))
                    .map(|p| s.wall_start_ms.saturating_sub(p.end_ms));
                (
                    tips::session_tip(s, gap, &r.settings),
                    ellipsize(&tips::session_label(s), NAME_COLS),
                    "push",
                    palette::SESSION,
                )
            }
            many => (
                tips::sessions_tip(many),
                format!("{} pushes", many.len()),
                "push agg",
                palette::SESSION_AGG,
            ),
        };
        svg.group(class, &tip);
        let x1 = scale.x_clamped(g.start_ms);
        let w = (scale.x_clamped(g.end_ms) - x1).max(1.5);
        svg.rect(
            BoxPx {
                x: x1,
                y: row,
                w,
                h: PUSH_H,
            },
            fill,
            "",
        );
        let lw = text_w(&label);
        if lw + 6.0 <= w {
            svg.text(x1 + 3.0, row + 18.0, Anchor::Start, "w", &label);
        } else if let Some((lane, x)) = lanes.place(x1, lw) {
            let y = row + PUSH_H + 12.0 + lane as f64 * LINE_H;
            svg.text(x, y, Anchor::Start, "", &label);
        } else {
            unlabelled += 1;
        }
        svg.end_group();
    }
    if unlabelled > 0 {
        notes.push(format!(
            "{unlabelled} push label{} had no room: hover the pushes",
            if unlabelled == 1 { "" } else { "s" }
        ));
    }
    lanes.used()
}

/// The splice window after each group of pushes, hatched.
fn draw_windows(
    svg: &mut Svg,
    r: &StreamReport,
    scale: &Scale,
    groups: &[cluster::Group],
    spans: &[(i64, i64)],
    row: f64,
) {
    let window_ms = r.settings.splice_window_ms.max(0);
    if window_ms == 0 {
        return;
    }
    for g in groups {
        let until = g
            .members
            .iter()
            .map(|&k| spans[k].1.saturating_add(window_ms))
            .max()
            .unwrap_or(g.end_ms);
        let (x1, x2) = (scale.x_clamped(g.end_ms), scale.x_clamped(until));
        if x2 - x1 < 0.5 {
            continue;
        }
        let tip = format!(
            "splice window {} after the push ending {}: a push of this stream starting by {} \
             UTC is appended when the file is shorter than slice and period and the codecs \
             match",
            duration_display(window_ms),
            axis::utc_ms(g.end_ms),
            axis::utc_ms(until)
        );
        svg.group("window", &tip);
        let b = BoxPx {
            x: x1,
            y: row + 20.0,
            w: x2 - x1,
            h: 8.0,
        };
        svg.rect(b, "url(#hatch)", "");
        svg.end_group();
    }
}

/// Gaps between consecutive groups, labelled with their length where it fits.
fn draw_gaps(svg: &mut Svg, r: &StreamReport, scale: &Scale, groups: &[cluster::Group], row: f64) {
    for pair in groups.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let gap_ms = b.start_ms.saturating_sub(a.end_ms);
        let (x1, x2) = (scale.x(a.end_ms), scale.x(b.start_ms));
        if gap_ms <= 0 || x2 - x1 < 2.0 {
            continue;
        }
        svg.group(
            "gap",
            &format!("gap {}", tips::gap_words(gap_ms, &r.settings)),
        );
        let hit = BoxPx {
            x: x1,
            y: row,
            w: x2 - x1,
            h: 19.0,
        };
        svg.rect(hit, "none", " pointer-events=\"all\"");
        svg.line(x1, row + 15.0, x2, row + 15.0, "gl");
        svg.line(x1, row + 11.0, x1, row + 19.0, "gl");
        svg.line(x2, row + 11.0, x2, row + 19.0, "gl");
        let label = format!("gap {}", axis::short_duration(gap_ms));
        if text_w(&label) + 6.0 <= x2 - x1 {
            svg.text((x1 + x2) / 2.0, row + 11.0, Anchor::Middle, "m", &label);
        }
        svg.end_group();
    }
}

fn draw_damage(svg: &mut Svg, r: &StreamReport, scale: &Scale, top: f64) {
    let mut marks: Vec<_> = r.damage.iter().collect();
    marks.sort_by_key(|d| d.wall_ms);
    let times: Vec<i64> = marks.iter().map(|d| d.wall_ms).collect();
    for g in cluster::points(&times, scale) {
        let members: Vec<_> = g.members.iter().map(|&k| marks[k]).collect();
        svg.group("damage", &tips::damage_tip(&members));
        let x = scale.x_clamped(g.start_ms);
        let y = top + DAMAGE_TOP;
        svg.line(x, y + 10.0, x, top + PUSH_TOP + PUSH_H, "dmg");
        let _ = write!(
            svg.out,
            "<path d=\"M{} {}L{} {}L{} {}Z\" fill=\"{}\"/>",
            num(x - 5.0),
            num(y),
            num(x + 5.0),
            num(y),
            num(x),
            num(y + 10.0),
            palette::DAMAGE
        );
        svg.end_group();
    }
}

/// Draws the files with the top of their row at `row`; returns the legend rows of the files
/// whose label had no room, and the label lanes used.
fn draw_files(
    svg: &mut Svg,
    r: &StreamReport,
    scale: &Scale,
    frame: &Frame,
    row: f64,
    notes: &mut Vec<String>,
) -> (Vec<String>, usize) {
    let (order, spans) = start_order(&r.files);
    let mut lanes = Lanes::new(LANES, frame.x0, frame.width - 4.0);
    let lane_y = |lane: usize| row + FILE_H + 12.0 + lane as f64 * 2.0 * LINE_H;
    let mut legend = Vec::new();
    let mut aggregated = 0;
    for g in cluster::spans(&spans, scale) {
        let x1 = scale.x_clamped(g.start_ms);
        let w = (scale.x_clamped(g.end_ms) - x1).max(1.5);
        let bar = BoxPx {
            x: x1,
            y: row,
            w,
            h: FILE_H,
        };
        let members: Vec<(usize, &FileSpan)> = g
            .members
            .iter()
            .map(|&k| (order[k] + 1, &r.files[order[k]]))
            .collect();
        let [(number, f)] = members.as_slice() else {
            aggregated += members.len();
            svg.group("file agg", &tips::files_tip(&members));
            svg.rect(bar, palette::FILE_AGG, " class=\"bar\"");
            let label = format!("{} files", members.len());
            if text_w(&label) + 6.0 <= w {
                svg.text(x1 + 3.0, row + 16.0, Anchor::Start, "", &label);
            } else if let Some((lane, x)) = lanes.place(x1, text_w(&label)) {
                svg.text(x, lane_y(lane), Anchor::Start, "", &label);
            }
            svg.end_group();
            continue;
        };
        let marks = marks(f, r);
        svg.group(
            "file",
            &tips::file_tip(f, *number, &r.sessions, &marks_words(&marks)),
        );
        svg.rect(bar, palette::closed(f.closed), " class=\"bar\"");
        for (what, _, at) in &marks {
            if let Some(at) = at {
                let x = scale.x_clamped(*at);
                svg.line(x, row - 3.0, x, row + FILE_H + 3.0, what);
            }
        }
        let name = ellipsize(&tips::file_name(f, *number), NAME_COLS);
        let detail = format!("{} · {}", duration_display(f.len_ms), tips::file_reasons(f));
        let one_line = format!("{name} · {detail}");
        let tag = format!("F{number}");
        if text_w(&one_line) + 6.0 <= w {
            svg.text(x1 + 3.0, row + 16.0, Anchor::Start, "", &one_line);
        } else if let Some((lane, x)) = lanes.place(x1, text_w(&name).max(text_w(&detail))) {
            svg.text(x, lane_y(lane), Anchor::Start, "", &name);
            svg.text(x, lane_y(lane) + LINE_H, Anchor::Start, "m", &detail);
        } else {
            if text_w(&tag) + 4.0 <= w {
                svg.text(x1 + 2.0, row + 16.0, Anchor::Start, "", &tag);
            }
            legend.push(format!("{tag}  {name}  {detail}"));
        }
        svg.end_group();
    }
    if aggregated > 0 {
        notes.push(format!(
            "{aggregated} files too short to draw apart are grey groups: hover them"
        ));
    }
    (legend, lanes.used())
}

/// The tooltip's lines of a file's [`marks`]: where it reaches each length, or that it does not.
fn marks_words(marks: &[(&'static str, i64, Option<i64>)]) -> String {
    let mut words = String::new();
    for (what, target, at) in marks {
        let _ = match at {
            Some(at) => write!(
                words,
                "\nreaches {what} ({}) at {} UTC",
                duration_display(*target),
                axis::utc_ms(*at)
            ),
            None => write!(
                words,
                "\n{what} ({}): not reached",
                duration_display(*target)
            ),
        };
    }
    words.trim_start().to_string()
}

/// Where the file reaches `slice` and `period` of media: (class, target length, wall time).
/// The media of a file is the parts of its sessions inside its wall span; gaps do not count.
pub(super) fn marks(f: &FileSpan, r: &StreamReport) -> Vec<(&'static str, i64, Option<i64>)> {
    let mut parts: Vec<(i64, i64)> = f
        .sessions
        .iter()
        .filter_map(|&i| r.sessions.get(i))
        .map(|s| {
            (
                s.wall_start_ms.max(f.wall_start_ms),
                s.wall_end_ms.min(f.wall_end_ms),
            )
        })
        .filter(|(a, b)| b > a)
        .collect();
    if parts.is_empty() {
        parts.push((f.wall_start_ms, f.wall_end_ms.max(f.wall_start_ms)));
    }
    let reach = |target: i64| {
        let mut acc: i64 = 0;
        for &(a, b) in &parts {
            let len = b.saturating_sub(a);
            if acc.saturating_add(len) >= target {
                return Some(a.saturating_add(target.saturating_sub(acc)));
            }
            acc = acc.saturating_add(len);
        }
        None
    };
    let mut out = vec![("slice", r.settings.slice_ms, reach(r.settings.slice_ms))];
    if let Some(p) = r.settings.period_ms {
        out.push(("period", p, reach(p)));
    }
    out
}
