//! Several files read as one: an fMP4 HLS run is its init segment followed by its media
//! segments (RFC 8216 §3.3: each segment is a fragment that needs the init segment's `moov`),
//! which the MP4 reader reads as the fragmented file they make together. Offsets count from
//! the start of the first file (the tests map one back to a file and an offset with
//! `Concat::locate`). One file is open at a time.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Files in order, read and seeked as one byte stream.
pub(crate) struct Concat {
    /// Each file and the offset it starts at.
    parts: Vec<(PathBuf, u64)>,
    len: u64,
    pos: u64,
    /// The open file: its index and where in it the handle stands.
    open: Option<(usize, File, u64)>,
}

impl Concat {
    /// Takes the files' lengths now; a file that changes size afterwards reads short.
    pub(crate) fn new(files: Vec<PathBuf>) -> io::Result<Concat> {
        let mut parts = Vec::with_capacity(files.len());
        let mut len = 0u64;
        for f in files {
            let n = std::fs::metadata(&f)?.len();
            parts.push((f, len));
            len += n;
        }
        Ok(Concat {
            parts,
            len,
            pos: 0,
            open: None,
        })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The file an offset falls in, and the offset within it.
    #[cfg(test)]
    pub(crate) fn locate(&self, offset: u64) -> Option<(&std::path::Path, u64)> {
        let i = self.part_at(offset)?;
        let (path, start) = &self.parts[i];
        Some((path, offset - start))
    }

    fn part_at(&self, offset: u64) -> Option<usize> {
        if offset >= self.len {
            return None;
        }
        Some(self.parts.partition_point(|(_, start)| *start <= offset) - 1)
    }

    fn part_end(&self, i: usize) -> u64 {
        self.parts.get(i + 1).map_or(self.len, |(_, start)| *start)
    }
}

impl Read for Concat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(i) = self.part_at(self.pos) else {
            return Ok(0);
        };
        let within = self.pos - self.parts[i].1;
        let room = usize::try_from(self.part_end(i) - self.pos).unwrap_or(usize::MAX);
        let take = buf.len().min(room);
        let file = match &mut self.open {
            Some((j, f, at)) if *j == i => {
                if *at != within {
                    f.seek(SeekFrom::Start(within))?;
                }
                f
            }
            _ => {
                let mut f = File::open(&self.parts[i].0)?;
                f.seek(SeekFrom::Start(within))?;
                self.open = Some((i, f, within));
                &mut self.open.as_mut().expect("just opened").1
            }
        };
        let n = file.read(&mut buf[..take])?;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} is shorter than it was", self.parts[i].0.display()),
            ));
        }
        self.pos += n as u64;
        if let Some((_, _, at)) = &mut self.open {
            *at = within + n as u64;
        }
        Ok(n)
    }
}

impl Seek for Concat {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => i128::from(n),
            SeekFrom::End(d) => i128::from(self.len) + i128::from(d),
            SeekFrom::Current(d) => i128::from(self.pos) + i128::from(d),
        };
        self.pos = u64::try_from(target).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before the first file")
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_seeks_across_files() {
        let dir = crate::testutil::scratch("concat");
        let names = ["a", "b", "c"];
        let contents: [&[u8]; 3] = [b"init", b"", b"segment"];
        for (n, c) in names.iter().zip(contents) {
            std::fs::write(dir.join(n), c).unwrap();
        }
        let mut c = Concat::new(names.iter().map(|n| dir.join(n)).collect()).unwrap();
        assert_eq!(c.len(), 11);
        let mut all = Vec::new();
        c.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"initsegment");
        c.seek(SeekFrom::Start(2)).unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"itseg");
        c.seek(SeekFrom::Current(-1)).unwrap();
        c.read_exact(&mut b[..1]).unwrap();
        assert_eq!(b[0], b'g');
        let (path, at) = c.locate(6).unwrap();
        assert_eq!((path.file_name().unwrap().to_str(), at), (Some("c"), 2));
        assert!(c.locate(11).is_none());
        c.seek(SeekFrom::End(0)).unwrap();
        assert_eq!(c.read(&mut b).unwrap(), 0);
        assert!(c.seek(SeekFrom::Current(-12)).is_err());
    }
}
