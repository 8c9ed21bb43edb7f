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
        }
    }

    /// A writer for stdout that does not tear the bar.
    pub fn out(&self) -> Out {
        Out {
            bar: self.bar.clone(),
            stdout: io::stdout(),
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

/// stderr, with the bar hidden while a message is written.
pub struct Log {
    bar: Option<ProgressBar>,
}

/// stdout (callbacks), with the bar hidden while a line is written, for when both are the
/// same terminal.
pub struct Out {
    bar: Option<ProgressBar>,
    stdout: io::Stdout,
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.bar {
            Some(b) => b.suspend(|| self.stdout.write(buf)),
            None => self.stdout.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.bar {
            Some(b) => b.suspend(|| io::stderr().write(buf)),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
