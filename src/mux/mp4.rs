//! mp4 writer (stub: not written yet).

use anyhow::{Result, bail};

use super::{FileClose, FileOpen, Muxer, Produced, SessionStart};
use crate::media::Packet;

pub struct Mp4Muxer {}

impl Mp4Muxer {
    pub fn open(_file: &FileOpen<'_>) -> Result<Mp4Muxer> {
        bail!("the mp4 output is not available yet")
    }
}

impl Muxer for Mp4Muxer {
    fn begin_session(&mut self, _session: &SessionStart) -> Result<()> {
        unimplemented!()
    }
    fn write(&mut self, _packet: &Packet) -> Result<()> {
        unimplemented!()
    }
    fn finish(self: Box<Self>, _close: &FileClose) -> Result<Produced> {
        unimplemented!()
    }
}
