//! Writing a file, and hashing it with MD5 (RFC 1321), on worker threads fed with the
//! producer's blocks.
//!
//! Putting pages into the page cache costs the kernel about as much as the muxing itself, and
//! MD5 runs at ~650 MB/s on one core: doing both beside the producing thread keeps a second core
//! busy while the first one demuxes and muxes. Blocks go producer → hasher → writer → producer,
//! so hashing one block overlaps writing the previous one, and come back for reuse: at most
//! [`max_blocks`] per file, so memory stays bounded whatever the file size. A file that ends
//! within its first block is written and hashed inline, with no thread.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use md5::{Digest, Md5};

/// Size of one block handed to the worker: large sequential writes.
pub(crate) const BLOCK_LEN: usize = 1 << 20;
/// Blocks in existence per file (the one being filled included): one for each stage, so the
/// producer, the hasher and the writer are busy at once. Peak RSS is mostly these blocks.
fn max_blocks(hashed: bool) -> usize {
    if hashed { 3 } else { 2 }
}

/// A block of file bytes: `data[..filled]` is meaningful; `data` has [`BLOCK_LEN`] bytes once
/// in use.
pub(crate) struct Block {
    data: Vec<u8>,
    pub(crate) filled: usize,
}

impl Block {
    pub(crate) fn new() -> Block {
        Block {
            data: vec![0; BLOCK_LEN],
            filled: 0,
        }
    }

    /// A placeholder holding no memory (and no room: it is replaced before use).
    pub(crate) fn empty() -> Block {
        Block {
            data: Vec::new(),
            filled: 0,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[..self.filled]
    }

    pub(crate) fn is_full(&self) -> bool {
        self.filled == self.data.len()
    }

    /// Appends what fits of `buf`; returns how many bytes were taken.
    pub(crate) fn push(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(self.data.len() - self.filled);
        self.data[self.filled..self.filled + n].copy_from_slice(&buf[..n]);
        self.filled += n;
        n
    }

    /// The free tail, for reading straight into the block.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        &mut self.data[self.filled..]
    }
}

struct Worker {
    full: SyncSender<Block>,
    free: Receiver<Block>,
    /// The hasher if any (it returns the digest), then the writer.
    threads: Vec<JoinHandle<io::Result<Option<[u8; 16]>>>>,
}

impl Worker {
    /// Waits for the threads: the first error, else the digest if one was computed.
    fn join(self) -> io::Result<Option<[u8; 16]>> {
        drop(self.full);
        let mut digest = Ok(None);
        for t in self.threads {
            let r = t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a file writer thread panicked")));
            match (r, &digest) {
                (Err(e), Ok(_)) => digest = Err(e),
                (Ok(Some(d)), Ok(_)) => digest = Ok(Some(d)),
                _ => {}
            }
        }
        digest
    }
}

/// Writes blocks to the end of a file, in order, and hashes them when asked to.
pub(crate) struct BlockPipe {
    /// The file, until the worker takes it.
    file: Option<File>,
    hashed: bool,
    /// Sync the file to storage once everything is written.
    sync: bool,
    worker: Option<Worker>,
    /// Blocks allocated so far, the producer's own included.
    blocks: usize,
}

impl BlockPipe {
    /// `file`'s offset is where the first block lands.
    pub(crate) fn new(file: File, hashed: bool, sync: bool) -> BlockPipe {
        BlockPipe {
            file: Some(file),
            hashed,
            sync,
            worker: None,
            blocks: 1,
        }
    }

    /// Hands a block over to be written (and hashed) and returns an empty one to fill next.
    pub(crate) fn send(&mut self, block: Block) -> io::Result<Block> {
        if self.worker.is_none() {
            let file = self
                .file
                .take()
                .ok_or_else(|| io::Error::other("the file's writer is gone"))?;
            self.worker = Some(spawn(file, self.hashed, self.sync)?);
        }
        let Some(w) = self.worker.as_mut() else {
            return Err(io::Error::other("the file's writer is gone"));
        };
        if w.full.send(block).is_err() {
            return Err(self.failure());
        }
        if let Ok(mut b) = w.free.try_recv() {
            b.filled = 0;
            return Ok(b);
        }
        if self.blocks < max_blocks(self.hashed) {
            self.blocks += 1;
            return Ok(Block::new());
        }
        match w.free.recv() {
            Ok(mut b) => {
                b.filled = 0;
                Ok(b)
            }
            Err(_) => Err(self.failure()),
        }
    }

    /// Writes `last` (the partly filled final block), waits until every block is written (and
    /// synced), and returns the digest of all of them when hashing.
    pub(crate) fn finish(mut self, last: Block) -> io::Result<Option<[u8; 16]>> {
        let Some(w) = self.worker.take() else {
            let mut file = self
                .file
                .take()
                .ok_or_else(|| io::Error::other("the file's writer is gone"))?;
            file.write_all(last.bytes())?;
            if self.sync {
                file.sync_all()?;
            }
            return Ok(self.hashed.then(|| Md5::digest(last.bytes()).into()));
        };
        // A send error means a thread stopped on an error, which joining returns.
        let _ = w.full.send(last);
        w.join()
    }

    /// The worker stopped: its error.
    fn failure(&mut self) -> io::Error {
        match self.worker.take().map(Worker::join) {
            Some(Err(e)) => e,
            _ => io::Error::other("the file's writer thread stopped"),
        }
    }
}

fn spawn(mut file: File, hashed: bool, sync: bool) -> io::Result<Worker> {
    // Every channel can hold every block, so no send waits on a full channel.
    let cap = max_blocks(hashed);
    let (full, from_producer) = mpsc::sync_channel::<Block>(cap);
    let (give_back, free) = mpsc::sync_channel::<Block>(cap);
    let mut threads = Vec::new();
    let to_write = if hashed {
        let (to_writer, to_write) = mpsc::sync_channel::<Block>(cap);
        threads.push(
            std::thread::Builder::new()
                .name("file-md5".into())
                .spawn(move || {
                    let mut h = Md5::new();
                    for block in from_producer {
                        h.update(block.bytes());
                        if to_writer.send(block).is_err() {
                            // The writer stopped on an error, which it reports.
                            break;
                        }
                    }
                    Ok(Some(h.finalize().into()))
                })?,
        );
        to_write
    } else {
        from_producer
    };
    threads.push(
        std::thread::Builder::new()
            .name("file-writer".into())
            .spawn(move || {
                for block in to_write {
                    file.write_all(block.bytes())?;
                    // The producer may be done and no longer taking blocks back.
                    let _ = give_back.try_send(block);
                }
                if sync {
                    file.sync_all()?;
                }
                Ok(None)
            })?,
    );
    Ok(Worker {
        full,
        free,
        threads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn run(parts: &[&[u8]], hashed: bool) -> (Vec<u8>, Option<[u8; 16]>) {
        let dir = std::env::temp_dir().join(format!("kls-rec-pipe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{hashed}", parts.len()));
        let file = File::create(&path).unwrap();
        let mut pipe = BlockPipe::new(file, hashed, hashed);
        let mut block = Block::new();
        for &p in parts {
            let mut rest = p;
            while !rest.is_empty() {
                let n = block.push(rest);
                rest = &rest[n..];
                if block.is_full() {
                    block = pipe.send(block).unwrap();
                }
            }
        }
        let md5 = pipe.finish(block).unwrap();
        let mut bytes = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut bytes).unwrap();
        std::fs::remove_file(&path).unwrap();
        let _ = std::fs::remove_dir(&dir);
        (bytes, md5)
    }

    #[test]
    fn writes_and_hashes_the_concatenation() {
        let big: Vec<u8> = (0..(BLOCK_LEN * 5 + 12345))
            .map(|i| (i * 7 + i / 251) as u8)
            .collect();
        let want: [u8; 16] = Md5::digest(&big).into();
        assert_eq!(run(&[&big], true), (big.clone(), Some(want)));
        // Uneven pieces crossing block boundaries.
        let pieces: Vec<&[u8]> = big.chunks(BLOCK_LEN / 3 + 17).collect();
        assert_eq!(run(&pieces, true), (big.clone(), Some(want)));
        assert_eq!(run(&pieces, false), (big.clone(), None));
        // Exactly one block: the final block is empty.
        let one = &big[..BLOCK_LEN];
        assert_eq!(run(&[one], true).1, Some(Md5::digest(one).into()));
        // Inline, no worker.
        assert_eq!(
            run(&[b"hello"], true),
            (b"hello".to_vec(), Some(Md5::digest(b"hello").into()))
        );
    }
}
