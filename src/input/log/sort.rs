//! A segment log's sessions by stream key, for logs of any size (README "Speed and memory"):
//! an external merge sort. The log is read once; its sessions are gathered in runs of
//! [`RUN_SESSIONS`], each run sorted by stream key (app, stream; log order within a key) and,
//! when the log holds more than one run, spilled to an unnamed file in `TMPDIR` in a compact
//! binary form; the runs are then merged. Memory is bounded by one run while reading and one
//! stream key's sessions while merging, whether the log is grouped by key, sorted or shuffled.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{LogSession, Sessions};
use crate::input::spill::{Fields, put_bytes, put_u64, unnamed_file};
use crate::input::{InputError, InputOptions, PendingSession};
use crate::media::StreamKey;

/// Sessions per run: about 40 MB of them in memory.
pub(crate) const RUN_SESSIONS: usize = 256 * 1024;

/// How much of a spilled run is read at a time while merging.
const READ_CHUNK: usize = 64 * 1024;

/// (app, stream): the key sessions are grouped by.
pub(crate) type GroupKey = (String, String);

fn group_key(s: &LogSession) -> GroupKey {
    (s.key.app.clone(), s.key.stream.clone())
}

/// A log's sessions, sorted by stream key, handed out one key at a time.
pub(crate) struct SortedLog {
    input: String,
    opts: InputOptions,
    /// Sessions per stream key (only the keys `keep` kept).
    pub(crate) counts: BTreeMap<GroupKey, usize>,
    source: Source,
}

enum Source {
    /// One run: no spill.
    Memory(std::vec::IntoIter<LogSession>),
    Spilled(Merge),
}

impl SortedLog {
    /// Reads the whole log (so a bad line is reported before anything is decided), keeping the
    /// sessions whose key `keep` accepts.
    pub(crate) fn open(
        path: &Path,
        opts: &InputOptions,
        keep: impl Fn(&str, &str) -> bool,
    ) -> Result<SortedLog, InputError> {
        SortedLog::open_in_runs(path, opts, keep, RUN_SESSIONS)
    }

    fn open_in_runs(
        path: &Path,
        opts: &InputOptions,
        keep: impl Fn(&str, &str) -> bool,
        run_sessions: usize,
    ) -> Result<SortedLog, InputError> {
        let input = path.display().to_string();
        let spill_err = |e: io::Error| {
            InputError::new(&input, None, format!("spilling the sorted sessions: {e}"))
        };
        let mut counts: BTreeMap<GroupKey, usize> = BTreeMap::new();
        let mut last: Option<GroupKey> = None;
        let mut run = Vec::new();
        let mut spill: Option<Spill> = None;
        for s in Sessions::open(path, opts)? {
            let s = s?;
            if !keep(&s.key.app, &s.key.stream) {
                continue;
            }
            // Logs mostly come grouped by key: the key is cloned once per group, not per line.
            let same = last
                .as_ref()
                .is_some_and(|k| k.0 == s.key.app && k.1 == s.key.stream);
            match last
                .as_ref()
                .and_then(|k| counts.get_mut(k))
                .filter(|_| same)
            {
                Some(n) => *n += 1,
                None => {
                    let key = group_key(&s);
                    *counts.entry(key.clone()).or_default() += 1;
                    last = Some(key);
                }
            }
            run.push(s);
            if run.len() == run_sessions {
                let sp = match spill.as_mut() {
                    Some(sp) => sp,
                    None => spill.insert(Spill::new().map_err(spill_err)?),
                };
                sp.run(&mut run).map_err(spill_err)?;
            }
        }
        let source = match spill {
            None => {
                sort_run(&mut run);
                Source::Memory(run.into_iter())
            }
            Some(mut sp) => {
                if !run.is_empty() {
                    sp.run(&mut run).map_err(spill_err)?;
                }
                Source::Spilled(sp.merge().map_err(spill_err)?)
            }
        };
        Ok(SortedLog {
            input,
            opts: opts.clone(),
            counts,
            source,
        })
    }

    /// The key of the next group, without taking it.
    pub(crate) fn peek_key(&mut self) -> Result<Option<GroupKey>, InputError> {
        let next = match &mut self.source {
            Source::Memory(it) => it.as_slice().first().map(group_key),
            Source::Spilled(m) => m
                .peek()
                .map_err(|e| read_error(&self.input, e))?
                .map(group_key),
        };
        Ok(next)
    }

    /// The next stream key's sessions, in log order.
    pub(crate) fn next_group(&mut self) -> Result<Vec<PendingSession>, InputError> {
        let Some(key) = self.peek_key()? else {
            return Ok(Vec::new());
        };
        let mut group = Vec::new();
        while self.peek_key()?.as_ref() == Some(&key) {
            let s = match &mut self.source {
                Source::Memory(it) => it.next(),
                Source::Spilled(m) => m.next().map_err(|e| read_error(&self.input, e))?,
            };
            group.extend(s.map(|s| s.pending(&self.input, &self.opts)));
        }
        Ok(group)
    }
}

fn read_error(input: &str, e: io::Error) -> InputError {
    InputError::new(
        input,
        None,
        format!("reading the sorted sessions back: {e}"),
    )
}

/// Stable: log order within a key.
fn sort_run(run: &mut [LogSession]) {
    run.sort_by(|a, b| (&a.key.app, &a.key.stream).cmp(&(&b.key.app, &b.key.stream)));
}

/// Sorted runs written one after another into one unnamed file.
struct Spill {
    out: BufWriter<File>,
    /// Byte range of each run.
    runs: Vec<(u64, u64)>,
    at: u64,
    buf: Vec<u8>,
}

impl Spill {
    fn new() -> io::Result<Spill> {
        let f = unnamed_file()?;
        Ok(Spill {
            out: BufWriter::with_capacity(256 * 1024, f),
            runs: Vec::new(),
            at: 0,
            buf: Vec::new(),
        })
    }

    fn run(&mut self, run: &mut Vec<LogSession>) -> io::Result<()> {
        sort_run(run);
        let start = self.at;
        for s in run.drain(..) {
            self.buf.clear();
            encode(&mut self.buf, &s);
            self.out.write_all(&self.buf)?;
            self.at += self.buf.len() as u64;
        }
        self.runs.push((start, self.at));
        Ok(())
    }

    fn merge(self) -> io::Result<Merge> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        let mut m = Merge {
            runs: self
                .runs
                .iter()
                .map(|&(at, end)| RunReader {
                    at,
                    end,
                    buf: Vec::new(),
                    pos: 0,
                })
                .collect(),
            heads: Vec::new(),
            heap: BinaryHeap::new(),
            file,
        };
        for i in 0..m.runs.len() {
            let head = m.runs[i].next(&m.file)?;
            m.heads.push(None);
            m.refill(i, head);
        }
        Ok(m)
    }
}

/// The k-way merge of the spilled runs.
struct Merge {
    file: File,
    runs: Vec<RunReader>,
    heads: Vec<Option<LogSession>>,
    /// (key, session number, run) of each run's head: the least comes first; equal keys in
    /// log order, as the session numbers run.
    heap: BinaryHeap<Reverse<(GroupKey, usize, usize)>>,
}

impl Merge {
    fn refill(&mut self, run: usize, head: Option<LogSession>) {
        if let Some(s) = &head {
            self.heap.push(Reverse((group_key(s), s.index, run)));
        }
        self.heads[run] = head;
    }

    fn peek(&mut self) -> io::Result<Option<&LogSession>> {
        Ok(self
            .heap
            .peek()
            .and_then(|Reverse((_, _, run))| self.heads[*run].as_ref()))
    }

    fn next(&mut self) -> io::Result<Option<LogSession>> {
        let Some(Reverse((_, _, run))) = self.heap.pop() else {
            return Ok(None);
        };
        let taken = self.heads[run].take();
        let head = self.runs[run].next(&self.file)?;
        self.refill(run, head);
        Ok(taken)
    }
}

/// One spilled run, read back in chunks.
struct RunReader {
    at: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl RunReader {
    fn next(&mut self, file: &File) -> io::Result<Option<LogSession>> {
        loop {
            if let Some((s, used)) = decode(&self.buf[self.pos..]) {
                self.pos += used;
                return Ok(Some(s));
            }
            if self.at >= self.end {
                return match self.pos == self.buf.len() {
                    true => Ok(None),
                    false => Err(io::Error::other("a spilled session is cut short")),
                };
            }
            self.buf.drain(..self.pos);
            self.pos = 0;
            let want = READ_CHUNK.min((self.end - self.at) as usize);
            let old = self.buf.len();
            self.buf.resize(old + want, 0);
            file.read_exact_at(&mut self.buf[old..], self.at)?;
            self.at += want as u64;
        }
    }
}

/// A session in the spill: its total length, then its fields.
fn encode(buf: &mut Vec<u8>, s: &LogSession) {
    let at = buf.len();
    put_u64(buf, 0);
    put_u64(buf, s.index as u64);
    put_u64(buf, s.line_no as u64);
    put_u64(buf, s.start_ms as u64);
    put_u64(buf, s.end_ms as u64);
    put_bytes(buf, s.key.app.as_bytes());
    put_bytes(buf, s.key.stream.as_bytes());
    match &s.key.vdoid {
        Some(v) => {
            buf.push(1);
            put_bytes(buf, v.as_bytes());
        }
        None => buf.push(0),
    }
    put_u64(buf, s.segments.len() as u64);
    for (start, path) in &s.segments {
        put_u64(buf, *start as u64);
        put_bytes(buf, path.as_os_str().as_bytes());
    }
    let len = (buf.len() - at) as u64;
    buf[at..at + 8].copy_from_slice(&len.to_le_bytes());
}

/// A whole session from the front of `b` and the bytes it took, or `None` when `b` holds less.
fn decode(b: &[u8]) -> Option<(LogSession, usize)> {
    let len = u64::from_le_bytes(b.get(..8)?.try_into().ok()?) as usize;
    let mut r = Fields::new(b.get(8..len)?);
    let (index, line_no) = (r.u64()? as usize, r.u64()? as usize);
    let (start_ms, end_ms) = (r.u64()? as i64, r.u64()? as i64);
    let app = r.text()?;
    let stream = r.text()?;
    let vdoid = match r.u8()? {
        1 => Some(r.text()?),
        _ => None,
    };
    let mut segments = Vec::new();
    for _ in 0..r.u64()? {
        let start = r.u64()? as i64;
        segments.push((
            start,
            PathBuf::from(OsString::from_vec(r.bytes()?.to_vec())),
        ));
    }
    let key = StreamKey { app, stream, vdoid };
    let s = LogSession {
        index,
        line_no,
        key,
        start_ms,
        end_ms,
        segments,
    };
    Some((s, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::scratch;

    #[test]
    fn spilled_sessions_read_back_as_written() {
        let s = LogSession {
            index: 7,
            line_no: 9,
            key: StreamKey {
                app: "live".into(),
                stream: "cam".into(),
                vdoid: Some("42".into()),
            },
            start_ms: 1_585_829_187_000,
            end_ms: 1_585_829_247_000,
            segments: vec![(1_585_829_187_000, PathBuf::from("d/cam-1.flv"))],
        };
        let mut buf = Vec::new();
        encode(&mut buf, &s);
        assert_eq!(decode(&buf), Some((s.clone(), buf.len())));
        assert_eq!(decode(&buf[..buf.len() - 1]), None);
    }

    #[test]
    fn a_shuffled_log_sorts_like_a_grouped_one_across_runs() {
        let dir = scratch("log-sort");
        let (mut grouped, mut shuffled) = (String::new(), String::new());
        let n = 2 * 100 + 10;
        let line = |i: usize| {
            format!(
                "{{\"stream\":\"s{}\",\"start\":{},\"end\":{}}}\n",
                i % 3,
                1_585_829_187_000 + i as i64 * 1000,
                1_585_829_187_500 + i as i64 * 1000
            )
        };
        for k in 0..3 {
            for i in (0..n).filter(|i| i % 3 == k) {
                grouped.push_str(&line(i));
            }
        }
        for i in 0..n {
            shuffled.push_str(&line(i));
        }
        let (g, s) = (dir.join("g.jsonl"), dir.join("s.jsonl"));
        std::fs::write(&g, grouped).unwrap();
        std::fs::write(&s, shuffled).unwrap();
        let starts = |p: &Path| {
            let opts = InputOptions::default();
            let mut log = SortedLog::open_in_runs(p, &opts, |_, _| true, 100).unwrap();
            let mut groups = Vec::new();
            loop {
                let group = log.next_group().unwrap();
                if group.is_empty() {
                    break;
                }
                let key = group[0].info.key.stream.clone();
                let starts: Vec<i64> = group.iter().map(|p| p.info.wall_start_ms).collect();
                groups.push((key, starts));
            }
            (groups, log.counts)
        };
        let (a, b) = (starts(&g), starts(&s));
        assert_eq!(a.0.len(), 3);
        assert_eq!(a.0.iter().map(|g| g.1.len()).sum::<usize>(), n);
        assert!(a.0.iter().all(|(_, s)| s.is_sorted()), "log order kept");
        assert_eq!(a, b);
    }
}
