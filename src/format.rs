//! The output formats (README "Outputs" `--formats`): the word every stage shares, from the
//! command line through the muxers and sinks to the callbacks and reports.

use std::fmt;
use std::str::FromStr;

/// An output container (README "Outputs" `--formats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Hls,
    Mp4,
    Flv,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Hls, Format::Mp4, Format::Flv];

    /// Directory under `record/{App}/{StreamName}/` and the name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Hls => "hls",
            Format::Mp4 => "mp4",
            Format::Flv => "flv",
        }
    }

    /// Extension of the main file (the playlist for HLS).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Hls => "m3u8",
            Format::Mp4 => "mp4",
            Format::Flv => "flv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hls" | "m3u8" => Ok(Format::Hls),
            "mp4" => Ok(Format::Mp4),
            "flv" => Ok(Format::Flv),
            other => Err(format!(
                "unknown format '{other}' (expected hls, mp4 or flv)"
            )),
        }
    }
}
