//! flv writer (stub: not written yet).

use anyhow::{Result, bail};

use super::{FileClose, FileOpen, Muxer, Produced, SessionStart};
use crate::media::Packet;

pub struct FlvMuxer {}

impl FlvMuxer {
    pub fn open(_file: &FileOpen<'_>) -> Result<FlvMuxer> {
        bail!("the flv output is not available yet")
    }
}

impl Muxer for FlvMuxer {
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
