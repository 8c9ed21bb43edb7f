//! The words of the picture: labels short enough to draw and the tooltips that say everything,
//! in the vocabulary `--explain` uses (reasons by their documented names, exact durations).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{DamageMark, FileSpan, SessionSpan, SettingsReport};
use crate::rules::duration_display;

use super::axis::utc_ms;

/// Most names a tooltip lists before saying how many more there are.
const TIP_LIST_MAX: usize = 20;

/// `13:00:00.000 → 13:00:10.089 UTC (1764075600.000 → 1764075610.089)`, dates included.
pub(crate) fn wall_span(start_ms: i64, end_ms: i64) -> String {
    format!(
        "{} → {} UTC (Unix {} → {})",
        utc_ms(start_ms),
        utc_ms(end_ms),
        crate::rules::wall_ms_display(start_ms),
        crate::rules::wall_ms_display(end_ms)
    )
}

/// The last component of an input's display name: labels have no room for directories.
pub(crate) fn basename(input: &str) -> &str {
    input.rsplit(['/', '\\']).next().unwrap_or(input)
}

pub(crate) fn session_label(s: &SessionSpan) -> String {
    format!("{} #{}", basename(&s.input), s.push)
}

/// A file's name: its first key's last component without the extension.
pub(crate) fn file_name(f: &FileSpan, number: usize) -> String {
    match f.keys.first() {
        Some(k) => {
            let last = basename(k);
            match last.rsplit_once('.') {
                Some((stem, _)) if !stem.is_empty() => stem.to_string(),
                _ => last.to_string(),
            }
        }
        None => format!("file F{number}"),
    }
}

pub(crate) fn file_reasons(f: &FileSpan) -> String {
    format!("{} → {}", f.opened, f.closed)
}

pub(crate) fn session_tip(
    s: &SessionSpan,
    gap_before_ms: Option<i64>,
    st: &SettingsReport,
) -> String {
    let mut t = format!("push #{} from {}\n", s.push, s.input);
    if let Some(v) = &s.vdoid {
        let _ = writeln!(t, "vdoid {v}");
    }
    let _ = writeln!(t, "{}", wall_span(s.wall_start_ms, s.wall_end_ms));
    let _ = write!(
        t,
        "{} of media, {} packets",
        duration_display(s.wall_end_ms.saturating_sub(s.wall_start_ms)),
        s.packets
    );
    if let Some(g) = gap_before_ms {
        let _ = write!(t, "\ngap before it: {}", gap_words(g, st));
    }
    t
}

/// `1m00.000s, within the 3m00.000s splice window`.
pub(crate) fn gap_words(gap_ms: i64, st: &SettingsReport) -> String {
    let verdict = if st.splice_window_ms == 0 {
        "splicing is off (window 0)".to_string()
    } else if gap_ms <= st.splice_window_ms {
        format!(
            "within the {} splice window",
            duration_display(st.splice_window_ms)
        )
    } else {
        format!(
            "longer than the {} splice window",
            duration_display(st.splice_window_ms)
        )
    };
    format!("{}, {verdict}", duration_display(gap_ms))
}

pub(crate) fn sessions_tip(members: &[&SessionSpan]) -> String {
    let (Some(first), Some(last)) = (members.first(), members.last()) else {
        return String::new();
    };
    let end = members
        .iter()
        .map(|s| s.wall_end_ms)
        .max()
        .unwrap_or(last.wall_end_ms);
    let media = members.iter().fold(0i64, |acc, s| {
        acc.saturating_add(s.wall_end_ms.saturating_sub(s.wall_start_ms).max(0))
    });
    let mut t = format!(
        "{} pushes, too short to draw apart\n{}\n{} of media in all",
        members.len(),
        wall_span(first.wall_start_ms, end),
        duration_display(media)
    );
    list(&mut t, members.iter().map(|s| session_label(s)));
    t
}

pub(crate) fn file_tip(
    f: &FileSpan,
    number: usize,
    sessions: &[SessionSpan],
    marks: &str,
) -> String {
    let mut t = format!("F{number} {}\n", file_name(f, number));
    for k in &f.keys {
        let _ = writeln!(t, "{k}");
    }
    let _ = writeln!(t, "{}", wall_span(f.wall_start_ms, f.wall_end_ms));
    let _ = writeln!(
        t,
        "media length {} (wall span {})",
        duration_display(f.len_ms),
        duration_display(f.wall_end_ms.saturating_sub(f.wall_start_ms))
    );
    let _ = writeln!(t, "opened: {}\nclosed: {}", f.opened, f.closed);
    let pushes: Vec<String> = f
        .sessions
        .iter()
        .filter_map(|&i| sessions.get(i))
        .map(session_label)
        .collect();
    if !pushes.is_empty() {
        let _ = writeln!(t, "pushes: {}", pushes.join(", "));
    }
    t.push_str(marks);
    t
}

pub(crate) fn files_tip(members: &[(usize, &FileSpan)]) -> String {
    let (Some(first), Some(last)) = (members.first(), members.last()) else {
        return String::new();
    };
    let end = members
        .iter()
        .map(|(_, f)| f.wall_end_ms)
        .max()
        .unwrap_or(0);
    let mut closed: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, f) in members {
        *closed.entry(f.closed.as_str()).or_default() += 1;
    }
    let closed: Vec<String> = closed.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
    let mut t = format!(
        "{} files F{}–F{}, too short to draw apart\n{}\nclosed: {}",
        members.len(),
        first.0,
        last.0,
        wall_span(first.1.wall_start_ms, end),
        closed.join(", ")
    );
    list(
        &mut t,
        members.iter().map(|(n, f)| {
            format!(
                "F{n} {} {} {}",
                file_name(f, *n),
                duration_display(f.len_ms),
                file_reasons(f)
            )
        }),
    );
    t
}

pub(crate) fn damage_tip(members: &[&DamageMark]) -> String {
    let mut t = format!(
        "{} damage report{}",
        members.len(),
        if members.len() == 1 { "" } else { "s" }
    );
    list(
        &mut t,
        members
            .iter()
            .map(|d| format!("{} {}: {}", utc_ms(d.wall_ms), d.input, d.what)),
    );
    t
}

/// Appends one line per item, at most [`TIP_LIST_MAX`].
fn list(t: &mut String, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    for item in items.take(TIP_LIST_MAX) {
        let _ = write!(t, "\n{item}");
    }
    if n > TIP_LIST_MAX {
        let _ = write!(t, "\n… and {} more", n - TIP_LIST_MAX);
    }
}

pub(crate) fn settings_line(r: &crate::report::StreamReport, span: Option<(i64, i64)>) -> String {
    let st = &r.settings;
    let mut t = format!(
        "slice {} · period {} · splice window {} · {} push{}, {} file{}, {} damage report{}",
        duration_display(st.slice_ms),
        st.period_ms.map_or("none".to_string(), duration_display),
        duration_display(st.splice_window_ms),
        r.sessions.len(),
        if r.sessions.len() == 1 { "" } else { "es" },
        r.files.len(),
        if r.files.len() == 1 { "" } else { "s" },
        r.damage.len(),
        if r.damage.len() == 1 { "" } else { "s" },
    );
    if let Some((a, b)) = span {
        let _ = write!(t, " · {} → {} UTC", utc_ms(a), utc_ms(b));
    }
    t
}
