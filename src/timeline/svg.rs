//! SVG 1.1 text output: XML 1.0 escaping of untrusted names (§2.2 `Char`, §2.4 character data),
//! fixed-precision numbers so the same report gives the same bytes, and text extents estimated
//! for a monospace font so labels can be placed without overlapping.

use std::fmt::Write as _;

/// Font size of all labels, in px.
pub(crate) const FONT_PX: f64 = 11.0;
/// Advance of one column of the monospace font (DejaVu Sans Mono: 0.602 em), rounded up.
pub(crate) const CHAR_W: f64 = 6.7;
/// Height of one text line, in px.
pub(crate) const LINE_H: f64 = 13.0;

/// Escapes text for XML character data and attribute values. Characters XML 1.0 does not allow
/// (most C0 controls, U+FFFE, U+FFFF) become U+FFFD, so a hostile name cannot break the document.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Tabs and newlines are legal but would be normalised away in attributes: keep them
            // as references so tooltips keep their lines.
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Columns a string takes in a monospace font: East Asian wide characters take two.
pub(crate) fn cols(s: &str) -> usize {
    s.chars().map(char_cols).sum()
}

fn char_cols(c: char) -> usize {
    match c as u32 {
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1FAFF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// Estimated width of a label in px.
pub(crate) fn text_w(s: &str) -> f64 {
    cols(s) as f64 * CHAR_W
}

/// `s` cut to at most `max_cols` columns, ending in `…` when cut.
pub(crate) fn ellipsize(s: &str, max_cols: usize) -> String {
    if cols(s) <= max_cols {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_cols(c);
        if used + w + 1 > max_cols {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A number with one decimal: coordinates at a tenth of a pixel, printed identically everywhere.
pub(crate) fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.1}");
    match s.strip_suffix(".0") {
        Some(i) if i != "-0" => i.to_string(),
        Some(_) => "0".to_string(),
        None => s,
    }
}

/// An axis-aligned box, in px.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BoxPx {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) w: f64,
    pub(crate) h: f64,
}

impl BoxPx {
    #[cfg(test)]
    pub(crate) fn overlaps(&self, o: &BoxPx) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// How a label is anchored on its x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
}

/// The document being written, and the boxes of the visible text placed so far (tests check
/// that no two overlap).
#[derive(Default)]
pub(crate) struct Svg {
    pub(crate) out: String,
    pub(crate) text_boxes: Vec<BoxPx>,
}

impl Svg {
    /// Appends `other` (drawn later, so on top).
    pub(crate) fn append(&mut self, other: Svg) {
        self.out.push_str(&other.out);
        self.text_boxes.extend(other.text_boxes);
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// A visible label; `class` picks its style.
    pub(crate) fn text(&mut self, x: f64, y_baseline: f64, anchor: Anchor, class: &str, s: &str) {
        let w = text_w(s);
        let left = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - w / 2.0,
        };
        self.text_boxes.push(BoxPx {
            x: left,
            y: y_baseline - FONT_PX + 1.0,
            w,
            h: FONT_PX + 1.0,
        });
        let anchor = match anchor {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
        };
        let class = if class.is_empty() {
            String::new()
        } else {
            format!(" class=\"{class}\"")
        };
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\"{class}{anchor}>{}</text>",
            num(x),
            num(y_baseline),
            esc(s)
        );
    }

    /// A filled rectangle; `extra` holds further attributes (already escaped).
    pub(crate) fn rect(&mut self, b: BoxPx, fill: &str, extra: &str) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"{extra}/>",
            num(b.x),
            num(b.y),
            num(b.w.max(0.0)),
            num(b.h.max(0.0))
        );
    }

    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{class}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// Opens a hoverable group whose tooltip is `tip`.
    pub(crate) fn group(&mut self, class: &str, tip: &str) {
        let _ = write!(self.out, "<g class=\"{class}\"><title>{}</title>", esc(tip));
    }

    pub(crate) fn end_group(&mut self) {
        self.out.push_str("</g>\n");
    }
}
