//! Progress on a terminal: one bar over the whole run (`[k/n]` pushes begun of those planned,
//! bytes read of all inputs, an ETA when every input's size is known; a spinner with bytes when
//! one is not, as stdin), and the files produced. Nothing at all when stderr is not a terminal
//! or with `--quiet`, so cron logs stay clean. Messages are written a whole line at a time above
//! the bar, in the style of [`super::style`].

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::style::Style;
use crate::record::Progress;

const KNOWN: &str = "{spinner} {wide_msg} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}";
const UNKNOWN: &str = "{spinner} {wide_msg} {bytes} {binary_bytes_per_sec}";

pub(crate) struct Bars {
    bar: Option<ProgressBar>,
    /// Pushes planned (0 until known) and begun.
    planned: AtomicUsize,
    begun: AtomicUsize,
    /// Per worker thread, the push it reads: its size if known and the position reported
    /// last. Streams are read side by side (`--jobs`), and the bar adds up what each has read.
    positions: Mutex<HashMap<ThreadId, (Option<u64>, u64)>>,
    verbose: bool,
}

impl Bars {
    pub(crate) fn new(enabled: bool) -> Bars {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(style(UNKNOWN));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Bars {
            bar,
            planned: AtomicUsize::new(0),
            begun: AtomicUsize::new(0),
            positions: Mutex::new(HashMap::new()),
            verbose: Style::get().verbose,
        }
    }

    /// A writer for messages that does not tear the bar.
    pub(crate) fn log(&self) -> Log {
        Log {
            bar: self.bar.clone(),
            pending: Vec::new(),
        }
    }

    /// A writer for stdout that does not tear the bar.
    pub(crate) fn out(&self) -> Out {
        Out {
            bar: self.bar.clone(),
            stdout: io::BufWriter::with_capacity(OUT_BUFFER, io::stdout()),
            pending: Vec::new(),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    /// A line above the bar, or on stderr without one.
    fn say(&self, line: String) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("the template is valid")
}

impl Progress for Bars {
    fn plan(&self, pushes: usize, bytes: Option<u64>) {
        self.planned.store(pushes, Ordering::Relaxed);
        if let (Some(b), Some(total)) = (&self.bar, bytes) {
            b.set_style(style(KNOWN));
            b.set_length(total);
        }
    }

    fn input(&self, name: &str, size: Option<u64>) {
        let begun = self.begun.fetch_add(1, Ordering::Relaxed) + 1;
        let planned = self.planned.load(Ordering::Relaxed);
        if let Ok(mut p) = self.positions.lock() {
            // The previous push of this thread was read to its end.
            let previous = p.insert(std::thread::current().id(), (size, 0));
            if let (Some(b), Some((Some(len), last))) = (&self.bar, previous) {
                b.inc(len.saturating_sub(last));
            }
        }
        if self.verbose {
            let size = size.map_or(String::new(), |s| format!(" ({s} bytes)"));
            self.say(format!("reading {name}{size}"));
        }
        if let Some(b) = &self.bar {
            b.set_message(if planned > 1 {
                format!("[{begun}/{planned}] {name}")
            } else {
                name.to_string()
            });
        }
    }

    fn position(&self, bytes: u64) {
        let Some(b) = &self.bar else {
            return;
        };
        let Ok(mut p) = self.positions.lock() else {
            return;
        };
        let (_, last) = p.entry(std::thread::current().id()).or_insert((None, 0));
        b.inc(bytes.saturating_sub(*last));
        *last = bytes.max(*last);
    }

    fn file_done(&self, key: &str) {
        if self.bar.is_some() || self.verbose {
            self.say(format!("wrote {key}"));
        }
    }
}

/// stderr, written a whole line at a time above the bar: a message written in pieces (each
/// `writeln!` is several writes) would otherwise come out as fragments, each followed by a copy
/// of the bar, and a partial line would be wiped by the next redraw. Each line is shown as the
/// [`Style`] says (coloured prefixes, warnings dropped with `-qq`).
pub(crate) struct Log {
    bar: Option<ProgressBar>,
    pending: Vec<u8>,
}

impl Log {
    fn emit(&self, bytes: &[u8]) -> io::Result<()> {
        let style = Style::get();
        let text = String::from_utf8_lossy(bytes);
        let shown: String = text
            .split_inclusive('\n')
            .filter_map(|line| style.render(line))
            .collect();
        if shown.is_empty() {
            return Ok(());
        }
        match &self.bar {
            Some(b) => b.suspend(|| io::stderr().write_all(shown.as_bytes())),
            None => io::stderr().write_all(shown.as_bytes()),
        }
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&lines)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.emit(&rest)?;
        }
        io::stderr().flush()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// How much of stdout is gathered before it is written: a dry run's plan of millions of lines
/// goes out in large writes. Callbacks are flushed one by one by those who write them.
const OUT_BUFFER: usize = 64 * 1024;

/// stdout (callbacks), written a whole line at a time above the bar, for when both are the
/// same terminal; buffered otherwise (see [`OUT_BUFFER`]).
pub(crate) struct Out {
    bar: Option<ProgressBar>,
    stdout: io::BufWriter<io::Stdout>,
    pending: Vec<u8>,
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(bar) = &self.bar else {
            return self.stdout.write(buf);
        };
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = self.pending.drain(..=end).collect();
            let stdout = &mut self.stdout;
            bar.suspend(|| stdout.write_all(&lines))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            let stdout = &mut self.stdout;
            match &self.bar {
                Some(b) => b.suspend(|| stdout.write_all(&rest))?,
                None => stdout.write_all(&rest)?,
            }
        }
        self.stdout.flush()
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
