//! What the rules decide, as `--explain`, `--dry-run` and the reports say it: why a file
//! opened, closed or took a session ([`Reason`]), each [`Decision`], and how times print.

use std::fmt;

use crate::media::to_ms;

/// Why a file was opened, closed, or a session appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The first push of the stream key in this run.
    FirstPush,
    /// The file reached the slice length during a push.
    Slice,
    /// A push resumed within the splice window into a file short enough: appended.
    Spliced,
    /// The push resumed after more than the splice window.
    GapExceeded,
    /// The push resumed within the window, but the file had already reached the period.
    PeriodExceeded,
    /// The push resumed within the window, but the file had already reached the slice length.
    SliceExceededAtResume,
    /// The codec configuration changed (inside a push, or between pushes).
    CodecChange,
    /// The input ended.
    EndOfInput,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::FirstPush => "first-push",
            Reason::Slice => "slice",
            Reason::Spliced => "spliced",
            Reason::GapExceeded => "gap-exceeded",
            Reason::PeriodExceeded => "period-exceeded",
            Reason::SliceExceededAtResume => "slice-exceeded-at-resume",
            Reason::CodecChange => "codec-change",
            Reason::EndOfInput => "end-of-input",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Numbers recording files of one stream key in the order they open.
pub type FileId = u32;

/// One decision, as `--explain` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A new file begins with the packet being placed.
    Open {
        file: FileId,
        reason: Reason,
        /// Unix ms of the file's first packet.
        wall_start_ms: i64,
        /// Which session of the key (0-based) it begins in.
        session: usize,
    },
    /// A session continues the held file.
    Append {
        file: FileId,
        session: usize,
        gap_ms: i64,
        /// The file's length when the session joined.
        file_len_90k: i64,
        /// File DTS at which the session's first packet lands: its lead track continues the
        /// file's exactly, so this may fall a little before `file_len_90k` (see
        /// [`crate::rules::OpenFile::continuation_90k`]).
        start_90k: i64,
        wall_start_ms: i64,
    },
    /// A file is complete.
    Close {
        file: FileId,
        reason: Reason,
        wall_start_ms: i64,
        /// Unix ms of the end of the file's last packet.
        wall_end_ms: i64,
        /// Media duration written into the file.
        len_90k: i64,
        /// Wall-clock detail for `gap-exceeded` and friends: the gap that decided it.
        gap_ms: Option<i64>,
    },
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Open {
                file,
                reason,
                wall_start_ms,
                session,
            } => write!(
                f,
                "open  file #{file} at {} (push #{session}): {reason}",
                wall_ms_display(*wall_start_ms)
            ),
            Decision::Append {
                file,
                session,
                gap_ms,
                file_len_90k,
                ..
            } => write!(
                f,
                "append push #{session} to file #{file}: spliced (gap {} <= window, file length {})",
                duration_display(*gap_ms),
                duration_display(to_ms(*file_len_90k))
            ),
            Decision::Close {
                file,
                reason,
                len_90k,
                wall_end_ms,
                gap_ms,
                ..
            } => {
                write!(
                    f,
                    "close file #{file} at {} (length {}): {reason}",
                    wall_ms_display(*wall_end_ms),
                    duration_display(to_ms(*len_90k))
                )?;
                if let Some(g) = gap_ms {
                    write!(f, " (gap {})", duration_display(*g))?;
                }
                Ok(())
            }
        }
    }
}

/// `1585829187.123` style: Unix seconds with milliseconds.
pub(crate) fn wall_ms_display(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// `1h02m03.456s` style.
pub(crate) fn duration_display(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("{sign}{h}h{m:02}m{s:02}.{frac:03}s")
    } else if m > 0 {
        format!("{sign}{m}m{s:02}.{frac:03}s")
    } else {
        format!("{sign}{s}.{frac:03}s")
    }
}
