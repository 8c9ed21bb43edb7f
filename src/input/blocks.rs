//! An input read in blocks, for the parsers that take bytes as they arrive: the chunk stream of
//! a raw RTMP dump and the HTTP exchange of a saved HTTP-FLV response.

use std::io::Read;

use super::InputError;

/// Bytes read at a time.
const BLOCK_LEN: usize = 64 * 1024;

/// A reader handing out its bytes a block at a time, each with the input offset it starts at.
pub(crate) struct Blocks<R> {
    reader: R,
    input: String,
    position: u64,
    block: Vec<u8>,
}

impl<R: Read> Blocks<R> {
    /// `input` names the input in errors.
    pub(crate) fn new(reader: R, input: &str) -> Blocks<R> {
        Blocks {
            reader,
            input: input.to_string(),
            position: 0,
            block: vec![0; BLOCK_LEN],
        }
    }

    /// The next block and the input offset of its first byte; `None` at the end of the input.
    pub(crate) fn next_block(&mut self) -> Result<Option<(&[u8], u64)>, InputError> {
        let at = self.position;
        let read = self.reader.read(&mut self.block);
        let n = read.map_err(|e| InputError::io(&self.input, Some(at), e))?;
        self.position += n as u64;
        Ok((n > 0).then(|| (&self.block[..n], at)))
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }
}
