//! The two small files that make callbacks survive failures and re-runs (README "Callbacks", "Bad
//! input, crashes, full disks"):
//!
//! - the **spool**, `.kls-rec-callbacks.spool` in the output root: JSON Lines, one callback
//!   body per line, appended and `fsync`ed when a callback could not be delivered, rewritten
//!   atomically (temporary file, `fsync`, `rename`) when some were redelivered;
//! - the **delivered-log**, `.kls-rec-delivered`: one line per delivered callback,
//!   `{taskid} {md5 hex}`, where the MD5 covers the destination (scheme, host, port and path of
//!   the callback URL, without query) and the exact body. A callback whose entry is in the log
//!   is not sent again: a re-run that produced identical files, hence identical bodies, sends
//!   nothing; a changed file (new ETag or size) or a status change (4 → 3) is sent.
//!
//! Both files are only touched while the run holds the [`super::OutputLock`].

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use md5::{Digest, Md5};

use crate::sink::local::{hex, temp_path};

/// Spool file name in the output root.
pub(crate) const SPOOL_FILE: &str = ".kls-rec-callbacks.spool";
/// Delivered-log file name in the output root.
pub(crate) const DELIVERED_FILE: &str = ".kls-rec-delivered";

/// Longest line read back from either file: callbacks are a few KiB; anything longer is damage.
const LINE_MAX: u64 = 1 << 20;

/// The undelivered callbacks of an output root.
#[derive(Clone, Debug)]
pub(crate) struct CallbackSpool {
    path: PathBuf,
}

/// What reading the spool found.
#[derive(Debug, Default)]
pub(crate) struct SpoolContents {
    /// Callback bodies, oldest first.
    pub(crate) lines: Vec<String>,
    /// Lines that were not a JSON object (a torn append, an edit by hand): skipped.
    pub(crate) invalid: usize,
}

impl CallbackSpool {
    pub(crate) fn new(root: &Path) -> CallbackSpool {
        CallbackSpool {
            path: root.join(SPOOL_FILE),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one callback body and makes it durable before returning.
    pub(crate) fn append(&self, json_line: &str) -> Result<()> {
        let mut f = File::options()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("opening callback spool {}", self.path.display()))?;
        let mut record = one_line(json_line);
        record.push('\n');
        f.write_all(record.as_bytes())
            .and_then(|_| f.sync_data())
            .with_context(|| format!("appending to callback spool {}", self.path.display()))
    }

    /// The spooled callbacks; an absent spool is empty.
    pub(crate) fn read(&self) -> Result<SpoolContents> {
        let mut out = SpoolContents::default();
        let Some(lines) = read_lines(&self.path)? else {
            return Ok(out);
        };
        for line in lines {
            let is_object = serde_json::from_str::<serde_json::Value>(&line)
                .map(|v| v.is_object())
                .unwrap_or(false);
            if is_object {
                out.lines.push(line);
            } else if !line.trim().is_empty() {
                out.invalid += 1;
            }
        }
        Ok(out)
    }

    /// Replaces the spool with `lines` atomically; no lines removes it.
    pub(crate) fn rewrite(&self, lines: &[String]) -> Result<()> {
        if lines.is_empty() {
            return match fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e)
                    .with_context(|| format!("removing callback spool {}", self.path.display())),
                _ => Ok(()),
            };
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let temp = temp_path(dir, SPOOL_FILE.trim_start_matches('.'), "partial");
        let written = (|| {
            let mut f = File::create(&temp)?;
            let mut text = String::new();
            for l in lines {
                text.push_str(&one_line(l));
                text.push('\n');
            }
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&temp, &self.path)?;
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok::<_, std::io::Error>(())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written.with_context(|| format!("rewriting callback spool {}", self.path.display()))
    }
}

/// Which callbacks were delivered, across runs.
#[derive(Debug)]
pub(crate) struct DeliveredLog {
    path: PathBuf,
    seen: HashSet<String>,
}

impl DeliveredLog {
    /// Loads the log of `root` (absent: empty).
    pub(crate) fn open(root: &Path) -> Result<DeliveredLog> {
        let path = root.join(DELIVERED_FILE);
        let seen = read_lines(&path)?
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect();
        Ok(DeliveredLog { path, seen })
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn contains(&self, entry: &str) -> bool {
        self.seen.contains(entry)
    }

    /// Records a delivery durably.
    pub(crate) fn record(&mut self, entry: &str) -> Result<()> {
        if self.seen.contains(entry) {
            return Ok(());
        }
        let mut f = File::options()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("opening delivered-log {}", self.path.display()))?;
        f.write_all(format!("{entry}\n").as_bytes())
            .and_then(|_| f.sync_data())
            .with_context(|| format!("appending to delivered-log {}", self.path.display()))?;
        self.seen.insert(entry.to_string());
        Ok(())
    }
}

/// The delivered-log entry of `body` sent to `destination`: `{taskid} {md5 hex}`.
pub(crate) fn delivery_entry(destination: &str, body: &str) -> String {
    let task = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("taskid").and_then(|t| t.as_str()).map(str::to_owned))
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "-".to_string());
    let mut h = Md5::new();
    h.update(destination.as_bytes());
    h.update(b"\n");
    h.update(body.trim().as_bytes());
    format!("{task} {}", hex(&h.finalize()))
}

/// A JSON body on one line: serde_json never writes raw newlines inside strings, so only
/// surrounding whitespace can hold any.
fn one_line(json: &str) -> String {
    json.trim().replace(['\n', '\r'], " ")
}

/// The file's lines, each at most [`LINE_MAX`] bytes (longer ones skipped); `None` if absent.
fn read_lines(path: &Path) -> Result<Option<Vec<String>>> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
    };
    let mut reader = BufReader::new(f);
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(LINE_MAX + 1)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        if buf.last() != Some(&b'\n') && n as u64 > LINE_MAX {
            // Over-long: skip to the end of this line.
            skip_line(&mut reader).with_context(|| format!("reading {}", path.display()))?;
            continue;
        }
        lines.push(String::from_utf8_lossy(&buf).trim_end().to_string());
    }
    Ok(Some(lines))
}

fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let (done, used) = {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, chunk.len()),
            }
        };
        reader.consume(used);
        if done {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::scratch;

    #[test]
    fn spool_appends_reads_and_rewrites() {
        let root = scratch("deliver-spool");
        let spool = CallbackSpool::new(&root);
        assert!(spool.read().unwrap().lines.is_empty());
        spool.append(r#"{"taskid":"a"}"#).unwrap();
        spool.append("{\"taskid\":\"b\"}\n").unwrap();
        // A torn append (crash mid-write) is skipped, not fatal.
        let mut f = File::options().append(true).open(spool.path()).unwrap();
        f.write_all(br#"{"taskid":"#).unwrap();
        let c = spool.read().unwrap();
        assert_eq!(c.lines, [r#"{"taskid":"a"}"#, r#"{"taskid":"b"}"#]);
        assert_eq!(c.invalid, 1);
        spool.rewrite(&c.lines[1..]).unwrap();
        assert_eq!(
            fs::read_to_string(spool.path()).unwrap(),
            "{\"taskid\":\"b\"}\n"
        );
        spool.rewrite(&[]).unwrap();
        assert!(!spool.path().exists());
        // Nothing else left in the root.
        assert_eq!(fs::read_dir(&root).unwrap().count(), 0);
    }

    #[test]
    fn overlong_lines_are_skipped() {
        let root = scratch("deliver-spool-long");
        let spool = CallbackSpool::new(&root);
        let mut text = vec![b'x'; (LINE_MAX + 10) as usize];
        text.extend_from_slice(b"\n{\"taskid\":\"ok\"}\n");
        fs::write(spool.path(), text).unwrap();
        let c = spool.read().unwrap();
        assert_eq!(c.lines, [r#"{"taskid":"ok"}"#]);
    }

    #[test]
    fn delivered_log_survives_reopening() {
        let root = scratch("deliver-log");
        let body = r#"{"status":3,"taskid":"Abc123"}"#;
        let e = delivery_entry("http://h/cb", body);
        assert!(
            e.starts_with("Abc123 ") && e.len() == "Abc123 ".len() + 32,
            "{e}"
        );
        assert_ne!(e, delivery_entry("http://other/cb", body));
        assert_ne!(
            e,
            delivery_entry("http://h/cb", r#"{"status":4,"taskid":"Abc123"}"#)
        );
        let mut log = DeliveredLog::open(&root).unwrap();
        assert!(!log.contains(&e));
        log.record(&e).unwrap();
        log.record(&e).unwrap();
        let log = DeliveredLog::open(&root).unwrap();
        assert!(log.contains(&e));
        assert_eq!(fs::read_to_string(log.path()).unwrap().lines().count(), 1);
    }

    #[test]
    fn hostile_task_ids_do_not_reach_the_log() {
        assert!(delivery_entry("u", r#"{"taskid":"a b\nc"}"#).starts_with("- "));
        assert!(delivery_entry("u", "not json").starts_with("- "));
    }
}
