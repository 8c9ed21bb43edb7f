//! The timeline picture of a run (`--timeline FILE`): per stream key, the push sessions on a
//! wall-clock axis with the gaps between them and the splice window after each, the recording
//! files as bars coloured by the reason they closed with their slice and period marks, and the
//! damage found — what `--explain` says in forty lines, at a glance.
//!
//! Output is SVG 1.1 (W3C Recommendation, 2011) written as plain text: a few rectangles, lines
//! and labels need no drawing crate, and writing the text ourselves keeps the bytes
//! deterministic (same report, same bytes) and every name from a dump XML-escaped in one place
//! ([`svg::esc`]). The HTML page (HTML Living Standard) embeds the same SVG inline with a few
//! lines of CSS and script for hover details; nothing is fetched from anywhere.
//!
//! Readability from seconds to years: the axis picks round tick steps far enough apart for their
//! labels ([`axis`]); labels that do not fit their shape go to a lane below it, then to a legend
//! or the tooltip; runs of pushes or files too short to draw apart become one summarised shape
//! ([`cluster`]), which also bounds the document's size by its width; more stream keys than
//! bands fit become summary lanes on one axis ([`overview`]), the HTML page then listing every
//! file by name under the picture.

mod axis;
mod band;
mod cluster;
mod overview;
mod svg;
mod tips;

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::report::StreamReport;
use svg::{Anchor, BoxPx, LINE_H, Svg, text_w};

/// Width of the picture, in px.
const WIDTH: f64 = 1400.0;
/// Left margin, where the row names sit.
const X0: f64 = 92.0;
/// Right margin: room for the last tick label.
const RIGHT: f64 = 48.0;

/// The fixed palette: one colour per kind of thing, file bars by the reason they closed.
pub mod palette {
    use crate::rules::Reason;

    pub const SESSION: &str = "#2f5597";
    pub const SESSION_AGG: &str = "#7f9fd0";
    pub(crate) const GAP: &str = "#7b3294";
    pub(crate) const WINDOW: &str = "#bcbd22";
    pub(crate) const WINDOW_BG: &str = "#f4f4dc";
    pub(crate) const DAMAGE: &str = "#d62728";
    pub(crate) const SLICE_MARK: &str = "#1b7837";
    pub(crate) const PERIOD_MARK: &str = "#762a83";
    pub(crate) const FILE_AGG: &str = "#c7c7c7";

    /// The fill of a file bar closed for `reason`.
    pub fn closed(reason: Reason) -> &'static str {
        match reason {
            Reason::Slice => "#8cd17d",
            Reason::GapExceeded => "#ffbe7d",
            Reason::PeriodExceeded => "#d4a6c8",
            Reason::SliceExceededAtResume => "#86bcb6",
            Reason::CodecChange => "#ff9d9a",
            Reason::EndOfInput => "#a0cbe8",
            // Never a closing reason; a neutral fill should one appear.
            Reason::FirstPush | Reason::Spliced => "#bab0ac",
        }
    }

    /// The reasons a file closes for, in legend order.
    pub(crate) const CLOSING: [Reason; 6] = [
        Reason::Slice,
        Reason::GapExceeded,
        Reason::PeriodExceeded,
        Reason::SliceExceededAtResume,
        Reason::CodecChange,
        Reason::EndOfInput,
    ];
}

/// The picture as a standalone SVG document.
pub fn render_svg(streams: &[StreamReport]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&render(streams).out);
    s
}

/// The picture in an HTML page: hovering a shape shows its details beside the pointer.
pub fn render_html(streams: &[StreamReport]) -> String {
    let mut body = render(streams).out;
    if streams.len() > overview::MAX_BANDS {
        body.push_str(&overview::file_list(streams));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>kls-rec timeline</title>\n<style>{HTML_CSS}</style></head>\n<body>\n{body}\
         <pre id=\"tip\" hidden></pre>\n<script>{HTML_JS}</script>\n</body></html>\n"
    )
}

/// What a timeline file holds, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Svg,
    Html,
}

impl Kind {
    /// `.svg` or `.html`/`.htm` (any case); anything else is refused, so the command line can
    /// check the name before any work.
    pub(crate) fn of(path: &Path) -> Result<Kind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Kind::Svg),
            Some("html" | "htm") => Ok(Kind::Html),
            _ => bail!(
                "timeline {}: the name must end in .svg or .html",
                path.display()
            ),
        }
    }
}

/// Writes the picture to `path`: SVG for `.svg`, HTML for `.html`/`.htm`.
///
/// Written under a temporary name and renamed over `path`, so no reader ever sees half a
/// picture. Unlike a recording ([`crate::sink::local::OutFile`] never replaces a file with
/// different bytes), a picture is replaced: it changes with the settings by design.
pub fn write(path: &Path, streams: &[StreamReport]) -> Result<()> {
    let text = match Kind::of(path)? {
        Kind::Svg => render_svg(streams),
        Kind::Html => render_html(streams),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let temp = crate::sink::local::temp_path(dir, "timeline", "partial");
    let result = (|| -> Result<()> {
        let mut f =
            fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", temp.display()))?;
        fs::rename(&temp, path)
            .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Styles of the SVG: one font (monospace, so label widths are known), line classes.
fn svg_css() -> String {
    format!(
        "text{{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11px;\
         fill:#222;white-space:pre}}.t{{font-weight:bold}}.m{{fill:#555}}.w{{fill:#fff}}\
         .grid{{stroke:#e8e8e8}}.gl{{stroke:{gap};stroke-width:2}}\
         .dmg{{stroke:{dmg};stroke-width:1}}.slice{{stroke:{slice};stroke-width:2}}\
         .period{{stroke:{period};stroke-width:2;stroke-dasharray:4 2}}\
         .bar{{stroke:#fff;stroke-width:1}}",
        gap = palette::GAP,
        dmg = palette::DAMAGE,
        slice = palette::SLICE_MARK,
        period = palette::PERIOD_MARK,
    )
}

const HTML_CSS: &str = "body{margin:8px;background:#fff}\
g.push:hover>rect,g.file:hover>rect,g.gap:hover>rect,g.window:hover>rect{stroke:#000;\
stroke-width:1.5}#tip{position:fixed;margin:0;padding:6px 8px;background:#fffff0;\
border:1px solid #888;font:12px 'DejaVu Sans Mono',monospace;pointer-events:none;\
max-width:60em;white-space:pre-wrap}";

/// Shows a hovered group's `<title>` in a panel beside the pointer.
const HTML_JS: &str = "(function(){var tip=document.getElementById('tip');\
document.addEventListener('mousemove',function(e){\
var g=e.target.closest&&e.target.closest('g');var t=g&&g.querySelector(':scope>title');\
if(!t){tip.hidden=true;return;}tip.textContent=t.textContent;tip.hidden=false;\
tip.style.left=Math.min(e.clientX+14,window.innerWidth-tip.offsetWidth-4)+'px';\
tip.style.top=(e.clientY+14)+'px';});})();";

/// The SVG element, and the boxes of its labels.
fn render(streams: &[StreamReport]) -> Svg {
    let frame = band::Frame {
        width: WIDTH,
        x0: X0,
        plot_w: WIDTH - X0 - RIGHT,
    };
    let mut body = Svg::default();
    let mut y = 20.0;
    body.text(8.0, y, Anchor::Start, "t", "kls-rec timeline");
    body.text(
        8.0 + text_w("kls-rec timeline") + 16.0,
        y,
        Anchor::Start,
        "m",
        "wall clock in UTC with Unix seconds; hover any shape for its details",
    );
    y += 16.0;
    if streams.is_empty() {
        y += LINE_H;
        body.text(8.0, y, Anchor::Start, "m", "no streams: nothing was read");
        y += 10.0;
    }
    if streams.len() > overview::MAX_BANDS {
        y = overview::draw(&mut body, streams, &frame, y);
    } else {
        for r in streams {
            y = band::draw(&mut body, r, &frame, y);
        }
    }
    y = legend(&mut body, y);
    let height = y.ceil();

    let mut doc = Svg {
        out: String::new(),
        text_boxes: body.text_boxes,
    };
    doc.raw(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" \
         height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n<style>{css}</style>\n<defs>\
         <pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{bg}\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{fg}\" stroke-width=\"3\"/>\
         </pattern></defs>\n",
        w = svg::num(WIDTH),
        h = svg::num(height),
        bg = palette::WINDOW_BG,
        fg = palette::WINDOW,
        css = svg_css(),
    ));
    doc.rect(
        BoxPx {
            x: 0.0,
            y: 0.0,
            w: WIDTH,
            h: height,
        },
        "#fff",
        "",
    );
    doc.raw("\n");
    doc.raw(&body.out);
    doc.raw("</svg>\n");
    doc
}

/// The key to colours and marks, wrapped to the picture's width; returns the y below it.
fn legend(svg: &mut Svg, top: f64) -> f64 {
    let mut entries: Vec<(String, Swatch)> = vec![
        ("push".into(), Swatch::Fill(palette::SESSION)),
        ("pushes grouped".into(), Swatch::Fill(palette::SESSION_AGG)),
        ("gap".into(), Swatch::Line("gl")),
        ("splice window".into(), Swatch::Fill("url(#hatch)")),
        ("damage".into(), Swatch::Fill(palette::DAMAGE)),
        ("slice reached".into(), Swatch::Line("slice")),
        ("period reached".into(), Swatch::Line("period")),
        ("files grouped".into(), Swatch::Fill(palette::FILE_AGG)),
    ];
    for r in palette::CLOSING {
        entries.push((
            format!("file closed: {r}"),
            Swatch::Fill(palette::closed(r)),
        ));
    }
    let mut x = 8.0;
    let mut y = top + 4.0;
    for (label, swatch) in entries {
        let w = 18.0 + text_w(&label) + 18.0;
        if x + w > WIDTH - 8.0 {
            x = 8.0;
            y += LINE_H + 6.0;
        }
        match swatch {
            Swatch::Fill(fill) => svg.rect(
                BoxPx {
                    x,
                    y,
                    w: 14.0,
                    h: 10.0,
                },
                fill,
                "",
            ),
            Swatch::Line(class) => svg.line(x + 7.0, y - 1.0, x + 7.0, y + 11.0, class),
        }
        svg.text(x + 18.0, y + 9.0, Anchor::Start, "m", &label);
        x += w;
    }
    y + LINE_H + 8.0
}

enum Swatch {
    Fill(&'static str),
    Line(&'static str),
}

#[cfg(test)]
mod tests;
