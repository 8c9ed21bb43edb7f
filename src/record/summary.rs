//! The `--json` run summary, and where each stream's results go once the stream is done
//! (README "Speed and memory"): kept in the [`Summary`], or handed to a [`Reports`] that
//! writes them out and lets them go, so a run over millions of pushes holds one stream's.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};

use super::{FileResult, Summary};
use crate::report::StreamReport;
use crate::sink::naming;

/// Takes each stream's files and report once the stream is done, in stream-key order.
pub(crate) trait Reports {
    fn stream(&mut self, files: Vec<FileResult>, streams: Vec<StreamReport>) -> io::Result<()>;
}

/// One file of the summary's `files`.
fn file_json(f: &FileResult) -> serde_json::Value {
    let mut v = serde_json::json!({
        "format": f.format.name(),
        "key": f.key,
        "opened": f.opened.as_str(),
        "closed": f.closed.as_str(),
        "length_ms": f.len_ms,
        "start_time": naming::name_second(f.wall_start_ms),
        "end_time": naming::name_second(f.wall_end_ms),
    });
    if let Some(p) = &f.produced {
        v["bytes"] = p.total_size.into();
        v["md5"] = crate::sink::local::hex(&p.md5).into();
        v["written"] = p.written.into();
    }
    v
}

/// The `--json` summary written as the run goes: each stream's files and report are
/// serialised into two unnamed spool files in `TMPDIR` (the counts and the exit status, which
/// come first, are known only at the end), and [`JsonSpool::finish`] prints the line
/// that serialising the whole summary at once would print, byte for byte (keys in the same
/// sorted order), from them.
pub(crate) struct JsonSpool {
    files: Part,
    streams: Part,
    /// Reports also kept for the caller (`--timeline` draws them).
    keep: Option<Vec<StreamReport>>,
}

/// A JSON array's elements, comma-separated, in a spool.
struct Part {
    out: BufWriter<File>,
    any: bool,
}

impl Part {
    fn new() -> io::Result<Part> {
        let f = crate::input::spill::unnamed_file()?;
        Ok(Part {
            out: BufWriter::with_capacity(256 * 1024, f),
            any: false,
        })
    }

    fn push(&mut self, v: &serde_json::Value) -> io::Result<()> {
        if std::mem::replace(&mut self.any, true) {
            self.out.write_all(b",")?;
        }
        serde_json::to_writer(&mut self.out, v)?;
        Ok(())
    }

    fn copy_to(self, out: &mut dyn Write) -> io::Result<()> {
        let mut f = self.out.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        let mut buf = vec![0; 256 * 1024];
        loop {
            match f.read(&mut buf)? {
                0 => return Ok(()),
                n => out.write_all(&buf[..n])?,
            }
        }
    }
}

impl JsonSpool {
    /// `keep`: the stream reports are also kept, for [`JsonSpool::finish`] to return.
    pub(crate) fn new(keep: bool) -> io::Result<JsonSpool> {
        Ok(JsonSpool {
            files: Part::new()?,
            streams: Part::new()?,
            keep: keep.then(Vec::new),
        })
    }

    /// Prints the summary line; returns the kept stream reports.
    pub(crate) fn finish(
        self,
        summary: &Summary,
        exit_status: i32,
        out: &mut dyn Write,
    ) -> io::Result<Vec<StreamReport>> {
        // serde_json's objects keep their keys sorted: the order summary_json prints.
        write!(
            out,
            "{{\"summary\":{{\"damage\":{},\"delivery_failures\":{},\"exit_status\":{},\"failures\":{},\"files\":[",
            summary.damage,
            summary.delivery_failures,
            exit_status,
            serde_json::to_string(&summary.failures)?,
        )?;
        self.files.copy_to(out)?;
        write!(
            out,
            "],{}\"not_recorded\":{},\"streams\":[",
            match summary.lost_media {
                0 => String::new(),
                n => format!("\"lost_media\":{n},"),
            },
            summary.not_recorded
        )?;
        self.streams.copy_to(out)?;
        writeln!(out, "]}}}}")?;
        Ok(self.keep.unwrap_or_default())
    }
}

impl Reports for JsonSpool {
    fn stream(&mut self, files: Vec<FileResult>, streams: Vec<StreamReport>) -> io::Result<()> {
        for f in &files {
            self.files.push(&file_json(f))?;
        }
        for s in &streams {
            self.streams.push(&serde_json::to_value(s)?)?;
        }
        if let Some(keep) = self.keep.as_mut() {
            keep.extend(streams);
        }
        Ok(())
    }
}

/// Results kept only as far as the caller needs: the stream reports when `--timeline` draws
/// them, nothing otherwise (the plan and the callbacks are printed as the run goes).
pub(crate) struct KeepStreams(pub Option<Vec<StreamReport>>);

impl Reports for KeepStreams {
    fn stream(&mut self, _files: Vec<FileResult>, streams: Vec<StreamReport>) -> io::Result<()> {
        if let Some(keep) = self.0.as_mut() {
            keep.extend(streams);
        }
        Ok(())
    }
}
