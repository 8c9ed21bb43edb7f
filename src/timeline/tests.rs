//! Unit tests of the timeline: axis steps, escaping, grouping, marks, and that no two labels
//! overlap from a minute of pushes to a week of them.

use super::axis::{self, Scale};
use super::cluster;
use super::svg::{self, BoxPx};
use super::*;
use crate::report::{DamageMark, FileSpan, SessionSpan, SettingsReport, StreamReport};
use crate::rules::Reason;

const S: i64 = 1000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const D: i64 = 24 * H;
const T0: i64 = 1_764_075_600_000;

fn report(sessions: Vec<(i64, i64)>, files: Vec<(i64, i64, Reason, Reason)>) -> StreamReport {
    StreamReport {
        app: "live".into(),
        stream: "cam".into(),
        settings: SettingsReport {
            slice_ms: 6 * H,
            period_ms: None,
            splice_window_ms: 3 * M,
        },
        sessions: sessions
            .into_iter()
            .enumerate()
            .map(|(i, (a, b))| SessionSpan {
                input: format!("dumps/cam-{}.flv", a / 1000),
                push: i,
                index: i % 3,
                vdoid: None,
                wall_start_ms: a,
                wall_end_ms: b,
                packets: 100,
                played: false,
            })
            .collect(),
        files: files
            .into_iter()
            .enumerate()
            .map(|(i, (a, b, opened, closed))| FileSpan {
                keys: vec![format!(
                    "record/live/cam/hls/cam-{}-{}.m3u8",
                    a / 1000,
                    b / 1000
                )],
                wall_start_ms: a,
                wall_end_ms: b,
                len_ms: b.saturating_sub(a),
                opened,
                closed,
                sessions: vec![i],
            })
            .collect(),
        damage: Vec::new(),
        not_recorded: Vec::new(),
    }
}

/// Pushes of `len` every `every`, `n` of them, each its own file closed by a gap.
fn regular(n: usize, every: i64, len: i64) -> StreamReport {
    let sessions: Vec<_> = (0..n as i64)
        .map(|i| (T0 + i * every, T0 + i * every + len))
        .collect();
    let files = sessions
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let opened = if i == 0 {
                Reason::FirstPush
            } else {
                Reason::GapExceeded
            };
            let closed = if i + 1 == n {
                Reason::EndOfInput
            } else {
                Reason::GapExceeded
            };
            (a, b, opened, closed)
        })
        .collect();
    report(sessions, files)
}

fn assert_no_overlap(streams: &[StreamReport]) {
    let boxes = render(streams).text_boxes;
    for (i, a) in boxes.iter().enumerate() {
        assert!(
            a.x >= 0.0 && a.x + a.w <= WIDTH,
            "label {i} leaves the picture: {a:?}"
        );
        for (j, b) in boxes.iter().enumerate().skip(i + 1) {
            assert!(!a.overlaps(b), "labels {i} and {j} overlap: {a:?} {b:?}");
        }
    }
}

#[test]
fn escapes_what_xml_does_not_allow() {
    assert_eq!(
        svg::esc("a<b>&\"c'\u{1}\u{0}\n\u{fffe}"),
        "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}\u{fffd}&#10;\u{fffd}"
    );
    let mut r = regular(2, 10 * M, M);
    r.app = "<script>alert(1)</script>".into();
    r.stream = "]]>&x;\u{7}".into();
    r.sessions[0].input = "\"/><a href=\"http://x\">".into();
    r.damage.push(DamageMark {
        wall_ms: T0,
        input: "<x>".into(),
        what: "bad & worse".into(),
    });
    let svg = render_svg(&[r]);
    assert!(!svg.contains("<script"));
    assert!(!svg.contains("<a "));
    assert!(!svg.contains("&x;"));
    assert!(svg.contains("&lt;script&gt;"));
    well_formed(&svg);
}

/// Parses the whole document (tags matched, attributes unique, entities known); panics where
/// it is not well-formed XML.
fn well_formed(doc: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(doc);
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    a.expect("attribute");
                }
            }
            Event::GeneralRef(r) => {
                let known = ["amp", "lt", "gt", "quot", "apos"].contains(&&*r);
                assert!(known || r.is_char_ref(), "unknown entity &{};", &*r);
            }
            Event::Eof => break,
            _ => {}
        }
    }
}

#[test]
fn tick_steps_follow_the_span() {
    let width = 1260.0;
    let cases = [
        (90 * S, 10),
        (20 * M, 120),
        (12 * H, 3600),
        (3 * D, 6 * 3600),
        (60 * D, 7 * 86_400),
        (3 * 365 * D, 91 * 86_400),
    ];
    for (span, want) in cases {
        let scale = Scale::covering(T0, T0 + span, 92.0, width);
        let step = axis::step_s(&scale);
        assert_eq!(step, want, "span {span}");
        let ticks = axis::ticks(&scale);
        assert!(ticks.len() >= 2, "span {span}: {ticks:?}");
        for pair in ticks.windows(2) {
            let px = scale.x(pair[1].ms) - scale.x(pair[0].ms);
            assert!(
                px >= 10.0 * svg::CHAR_W + 14.0 - 0.01,
                "span {span}: {px} px apart"
            );
        }
    }
    let scale = Scale::covering(T0, T0 + 20 * M, 92.0, width);
    let ticks = axis::ticks(&scale);
    assert_eq!(ticks[0].date.as_deref(), Some("2025-11-25"));
    assert_eq!(ticks[0].time.as_deref(), Some("13:00"));
    assert_eq!(ticks[0].unix, "1764075600");
    assert_eq!(ticks[1].date, None);
}

#[test]
fn extreme_times_do_not_panic() {
    for (a, b) in [
        (i64::MIN, i64::MAX),
        (0, 0),
        (-5 * D, -D),
        (i64::MAX - 5, i64::MAX),
    ] {
        let scale = Scale::covering(a, b, 92.0, 1260.0);
        assert!(axis::ticks(&scale).len() < 40);
        let r = report(
            vec![(a, b)],
            vec![(a, b, Reason::FirstPush, Reason::EndOfInput)],
        );
        well_formed(&render_svg(&[r]));
    }
}

#[test]
fn dates_and_durations() {
    assert_eq!(axis::utc_ms(T0 + 123), "2025-11-25 13:00:00.123");
    assert_eq!(axis::utc_ms(-1), "1969-12-31 23:59:59.999");
    assert_eq!(axis::utc_ms(951_782_400_000), "2000-02-29 00:00:00.000");
    assert_eq!(axis::short_duration(850), "850ms");
    assert_eq!(axis::short_duration(20_178), "20.1s");
    assert_eq!(axis::short_duration(4 * M + 5 * S), "4m05s");
    assert_eq!(axis::short_duration(11 * H), "11h00m");
    assert_eq!(axis::short_duration(3 * D + 4 * H), "3d04h");
}

#[test]
fn labels_never_overlap_from_minutes_to_weeks() {
    // Three pushes in six minutes, as in the fixtures.
    assert_no_overlap(&[regular(3, 2 * M, 10 * S)]);
    // A day of 5-minute pushes every 20 minutes.
    assert_no_overlap(&[regular(72, 20 * M, 5 * M)]);
    // A week of one-minute pushes every five minutes: grouped.
    assert_no_overlap(&[regular(7 * 288, 5 * M, M)]);
    // Two streams, one long and one short, and many damage reports.
    let mut r = regular(40, 7 * M, 6 * M);
    r.damage = (0..500)
        .map(|i| DamageMark {
            wall_ms: T0 + i * 31 * S,
            input: "x.flv".into(),
            what: format!("skipped {i} bytes"),
        })
        .collect();
    assert_no_overlap(&[r, regular(2, 11 * H, 10 * H)]);
}

#[test]
fn size_is_bounded_by_the_width_not_the_pushes() {
    let r = regular(100_000, 10 * S, 5 * S);
    let svg = render_svg(&[r]);
    assert!(svg.len() < 4_000_000, "{} bytes", svg.len());
    let groups = svg.matches("<g class=\"push").count();
    assert!(groups <= 2 * cluster::MAX_GROUPS, "{groups} push shapes");
    assert!(svg.contains("pushes, too short to draw apart"));
    well_formed(&svg);
}

#[test]
fn wide_spans_keep_their_own_shape_and_tiny_ones_group() {
    let scale = Scale::covering(0, 1000 * S, 0.0, 1000.0);
    // px per second ≈ 0.96: 1 s spans are tiny, 100 s spans are wide.
    let spans = [
        (0, S),
        (2 * S, 3 * S),
        (10 * S, 110 * S),
        (110 * S, 210 * S),
        (300 * S, 301 * S),
    ];
    let groups = cluster::spans(&spans, &scale);
    let members: Vec<Vec<usize>> = groups.iter().map(|g| g.members.clone()).collect();
    assert_eq!(members, [vec![0, 1], vec![2], vec![3], vec![4]]);
    let points = cluster::points(&[0, 5 * S, 20 * S, 21 * S], &scale);
    assert_eq!(points.len(), 2);
}

#[test]
fn slice_mark_counts_media_not_gaps() {
    let mut r = report(
        vec![(T0, T0 + 4 * H), (T0 + 4 * H + 2 * M, T0 + 8 * H)],
        vec![(T0, T0 + 8 * H, Reason::FirstPush, Reason::EndOfInput)],
    );
    r.files[0].sessions = vec![0, 1];
    r.settings.period_ms = Some(3 * H);
    let m = band_marks(&r);
    assert_eq!(m[0], ("slice", 6 * H, Some(T0 + 6 * H + 2 * M)));
    assert_eq!(m[1], ("period", 3 * H, Some(T0 + 3 * H)));
    r.settings.slice_ms = 9 * H;
    assert_eq!(band_marks(&r)[0], ("slice", 9 * H, None));
    let svg = render_svg(&[r]);
    assert!(svg.contains("slice (9h00m00.000s): not reached"));
    assert!(svg.contains("reaches period (3h00m00.000s) at 2025-11-25 16:00:00.000 UTC"));
}

fn band_marks(r: &StreamReport) -> Vec<(&'static str, i64, Option<i64>)> {
    band::marks(&r.files[0], r)
}

#[test]
fn empty_inputs_still_draw() {
    well_formed(&render_svg(&[]));
    let r = report(Vec::new(), Vec::new());
    let svg = render_svg(&[r]);
    assert!(svg.contains("no push sessions"));
    well_formed(&svg);
    let html = render_html(&[]);
    let svg_start = html.find("<svg").unwrap();
    let svg_end = html.find("</svg>").unwrap() + "</svg>".len();
    well_formed(&html[svg_start..svg_end]);
}

#[test]
fn unlabelled_files_go_to_the_legend_with_a_tag() {
    // Ten 10 min files, 12 min apart, on a day-long axis: bars of ~9 px, no room for labels.
    let mut r = regular(10, 12 * M, 10 * M);
    r.sessions.push(SessionSpan {
        input: "late.flv".into(),
        push: 10,
        index: 0,
        vdoid: Some("v1".into()),
        wall_start_ms: T0 + D,
        wall_end_ms: T0 + D + H,
        packets: 1,
        played: false,
    });
    let svg = render_svg(&[r.clone()]);
    assert!(svg.contains("F3  cam-"), "legend rows");
    assert!(svg.contains("vdoid v1"));
    assert_no_overlap(&[r]);
}

#[test]
fn boxes_overlap_only_when_they_share_area() {
    let a = BoxPx {
        x: 0.0,
        y: 0.0,
        w: 10.0,
        h: 10.0,
    };
    assert!(a.overlaps(&BoxPx {
        x: 9.0,
        y: 9.0,
        w: 5.0,
        h: 5.0
    }));
    assert!(!a.overlaps(&BoxPx {
        x: 10.0,
        y: 0.0,
        w: 5.0,
        h: 5.0
    }));
}
