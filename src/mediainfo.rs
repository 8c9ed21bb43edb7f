//! ffprobe-style media information (stub, replaced by the real module).

use serde::Serialize;

use crate::media::{CodecConfig, Packet};
use crate::mux::Format;

#[derive(Clone, Debug, Default, Serialize)]
pub struct MediaInfo {}

#[derive(Clone, Debug, Default)]
pub struct FileStats {}

impl FileStats {
    pub fn add(&mut self, _p: &Packet) {}
}

pub fn describe(_f: Format, _size: u64, _c: &CodecConfig, _s: &FileStats) -> MediaInfo {
    MediaInfo {}
}
