//! hls writer (stub: not written yet).

use anyhow::{Result, bail};

use super::{FileClose, FileOpen, Muxer, Produced, SessionStart};
use crate::media::Packet;

pub struct HlsMuxer {}

impl HlsMuxer {
    pub fn open(_file: &FileOpen<'_>) -> Result<HlsMuxer> {
        bail!("the hls output is not available yet")
    }
}

impl Muxer for HlsMuxer {
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
