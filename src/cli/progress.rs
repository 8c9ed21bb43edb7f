//! Progress on a terminal: bytes read of the current input, files produced. Nothing at all when
//! stderr is not a terminal or with `--quiet`, so cron logs stay clean.

use std::io::{self, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::record::Progress;

pub struct Bars {
    bar: Option<ProgressBar>,
}

impl Bars {
    pub fn new(enabled: bool) -> Bars {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {wide_msg} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .expect("the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Bars { bar }
    }

    /// A writer for messages that does not tear the bar.
    pub fn log(&self) -> Log {
        Log {
            bar: self.bar.clone(),
            pending: Vec::new(),
        }
    }

    /// A writer for stdout that does not tear the bar.
    pub fn out(&self) -> Out {
        Out {
            bar: self.bar.clone(),
            stdout: io::stdout(),
            pending: Vec::new(),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn input(&self, name: &str, size: Option<u64>) {
        if let Some(b) = &self.bar {
            b.set_position(0);
            match size {
                Some(s) => b.set_length(s),
                None => b.unset_length(),
            }
            b.set_message(name.to_string());
        }
    }

    fn position(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_position(bytes);
        }
    }

    fn file_done(&self, key: &str) {
        if let Some(b) = &self.bar {
            b.println(format!("wrote {key}"));
        }
    }
}

/// stderr, written a whole line at a time above the bar: a message written in pieces (each
/// `writeln!` is several writes) would otherwise come out as fragments, each followed by a copy
/// of the bar, and a partial line would be wiped by the next redraw.
pub struct Log {
    bar: Option<ProgressBar>,
    pending: Vec<u8>,
}

/// stdout (callbacks), written a whole line at a time above the bar, for when both are the
/// same terminal.
pub struct Out {
    bar: Option<ProgressBar>,
    stdout: io::Stdout,
    pending: Vec<u8>,
}

/// Buffers `buf` into `pending` and writes what ends in a newline with `write_lines`; without
/// a bar, writes straight through.
fn write_lines(
    bar: &Option<ProgressBar>,
    pending: &mut Vec<u8>,
    buf: &[u8],
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<usize> {
    let Some(bar) = bar else {
        sink(buf)?;
        return Ok(buf.len());
    };
    pending.extend_from_slice(buf);
    if let Some(end) = pending.iter().rposition(|&b| b == b'\n') {
        let lines: Vec<u8> = pending.drain(..=end).collect();
        bar.suspend(|| sink(&lines))?;
    }
    Ok(buf.len())
}

/// Writes what is buffered, complete line or not.
fn flush_lines(
    bar: &Option<ProgressBar>,
    pending: &mut Vec<u8>,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let rest = std::mem::take(pending);
    match bar {
        Some(b) => b.suspend(|| sink(&rest)),
        None => sink(&rest),
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let stdout = &mut self.stdout;
        write_lines(&self.bar, &mut self.pending, buf, |b| stdout.write_all(b))
    }

    fn flush(&mut self) -> io::Result<()> {
        let stdout = &mut self.stdout;
        flush_lines(&self.bar, &mut self.pending, |b| stdout.write_all(b))?;
        self.stdout.flush()
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_lines(&self.bar, &mut self.pending, buf, |b| io::stderr().write_all(b))
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_lines(&self.bar, &mut self.pending, |b| io::stderr().write_all(b))?;
        io::stderr().flush()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
