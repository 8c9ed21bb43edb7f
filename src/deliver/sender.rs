//! Callback delivery for one run (README "Callbacks", "Bad input, crashes, full disks"): POST, else
//! spool; redeliver the spool first; never send the same callback twice.
//!
//! Rules, in the order they apply to each callback body:
//! 1. its delivered-log entry (see [`super::spool`]) is present → not sent again;
//! 2. an earlier callback of this run gave up on a *transient* failure (network, timeout, 5xx)
//!    → spooled at once: the endpoint is down, and waiting out the retries once per file would
//!    make a cron run crawl; the order of callbacks is kept;
//! 3. POSTed with retries; delivered → recorded in the delivered-log; given up → spooled.
//!
//! A callback already in the spool is not appended twice. A POST that succeeded just before a
//! crash (before the log line was written) is sent again by the next run: at least once.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Result;

use super::http::Poster;
use super::lock::OutputLock;
use super::spool::{CallbackSpool, DeliveredLog, delivery_entry};

/// What became of one callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// POSTed and acknowledged with a 2xx.
    Delivered,
    /// The same body was delivered to the same URL before (delivered-log).
    AlreadyDelivered,
    /// Not delivered now; kept in the spool for a later run. `error` says why.
    Spooled { error: String },
}

/// What [`CallbackSender::redeliver_spool`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolReport {
    pub delivered: usize,
    /// Dropped from the spool because the delivered-log already had them.
    pub(crate) already_delivered: usize,
    /// Still in the spool.
    pub still_spooled: usize,
    /// Damaged lines dropped from the spool.
    pub invalid: usize,
    /// The failure that left callbacks in the spool.
    pub error: Option<String>,
}

/// Sends a run's callbacks to one URL. Shareable between threads; callbacks are posted one
/// at a time, in the order [`CallbackSender::send`] is called.
#[derive(Debug)]
pub struct CallbackSender {
    poster: Poster,
    destination: String,
    spool: CallbackSpool,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    delivered: DeliveredLog,
    /// Entries of the lines in the spool.
    spooled: HashSet<String>,
    /// Set once a transient failure gave up in this run.
    endpoint_down: Option<String>,
}

impl CallbackSender {
    /// A sender for the output root held by `lock`.
    pub fn new(lock: &OutputLock, poster: Poster) -> Result<CallbackSender> {
        Self::open(lock.root(), poster)
    }

    fn open(root: &Path, poster: Poster) -> Result<CallbackSender> {
        let destination = poster.display_url();
        let spool = CallbackSpool::new(root);
        let spooled = spool
            .read()?
            .lines
            .iter()
            .map(|l| delivery_entry(&destination, l))
            .collect();
        Ok(CallbackSender {
            destination,
            spool,
            state: Mutex::new(State {
                delivered: DeliveredLog::open(root)?,
                spooled,
                endpoint_down: None,
            }),
            poster,
        })
    }

    /// Sends what earlier runs spooled, oldest first, and rewrites the spool with what is still
    /// undelivered. Call once, before the run's first [`CallbackSender::send`]. Stops at the
    /// first transient failure (the rest stay spooled, in order); a callback the endpoint
    /// refuses for good (4xx) stays spooled and the next ones are still tried.
    pub fn redeliver_spool(&self) -> Result<SpoolReport> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let contents = self.spool.read()?;
        let mut report = SpoolReport {
            invalid: contents.invalid,
            ..SpoolReport::default()
        };
        let spooled_before = contents.lines.len();
        let mut keep = Vec::new();
        let mut kept = HashSet::new();
        for line in contents.lines {
            let entry = delivery_entry(&self.destination, &line);
            if state.delivered.contains(&entry) {
                report.already_delivered += 1;
                continue;
            }
            if kept.contains(&entry) {
                // A duplicate of a line still spooled: one copy is enough.
                continue;
            }
            if state.endpoint_down.is_some() {
                kept.insert(entry);
                keep.push(line);
                continue;
            }
            match self.poster.try_post(&line) {
                Ok(()) => {
                    state.delivered.record(&entry)?;
                    report.delivered += 1;
                }
                Err(e) => {
                    let message = format!("posting the callback to {}: {e}", self.destination);
                    if e.transient {
                        state.endpoint_down = Some(message.clone());
                    }
                    report.error = Some(message);
                    kept.insert(entry);
                    keep.push(line);
                }
            }
        }
        if keep.len() != spooled_before || report.invalid > 0 {
            self.spool.rewrite(&keep)?;
        }
        report.still_spooled = keep.len();
        state.spooled = kept;
        Ok(report)
    }

    /// Delivers one callback body (one JSON line) per the rules in the module doc. An error
    /// means the callback could be neither delivered nor spooled (the disk failed).
    pub fn send(&self, json_line: &str) -> Result<Sent> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let entry = delivery_entry(&self.destination, json_line);
        if state.delivered.contains(&entry) {
            return Ok(Sent::AlreadyDelivered);
        }
        let error = match &state.endpoint_down {
            Some(down) => format!("not tried: {down}"),
            None => match self.poster.try_post(json_line) {
                Ok(()) => {
                    state.delivered.record(&entry)?;
                    return Ok(Sent::Delivered);
                }
                Err(e) => {
                    let message = format!("posting the callback to {}: {e}", self.destination);
                    if e.transient {
                        state.endpoint_down = Some(message.clone());
                    }
                    message
                }
            },
        };
        if state.spooled.insert(entry) {
            self.spool.append(json_line)?;
        }
        Ok(Sent::Spooled { error })
    }

    /// The spool file (for messages: "N callbacks kept in …").
    pub fn spool_path(&self) -> &Path {
        self.spool.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::{RetryPolicy, Timeouts};
    use crate::testutil::scratch;

    /// A poster to a port nothing listens on, trying once.
    fn dead_poster() -> Poster {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Poster::new(
            &format!("http://127.0.0.1:{port}/cb"),
            Timeouts::default(),
            RetryPolicy::once(),
        )
        .unwrap()
    }

    #[test]
    fn delivered_lines_leave_the_spool_without_a_request() {
        let root = scratch("deliver-sender-dedup");
        let lock = OutputLock::acquire(&root, false).unwrap();
        let poster = dead_poster();
        let line = r#"{"taskid":"T1","status":3}"#;
        let mut log = DeliveredLog::open(&root).unwrap();
        log.record(&delivery_entry(&poster.display_url(), line))
            .unwrap();
        let spool = CallbackSpool::new(&root);
        spool.append(line).unwrap();
        spool.append(line).unwrap();
        let sender = CallbackSender::new(&lock, poster).unwrap();
        let report = sender.redeliver_spool().unwrap();
        assert_eq!(
            report,
            SpoolReport {
                already_delivered: 2,
                ..SpoolReport::default()
            }
        );
        assert!(!spool.path().exists());
        assert_eq!(sender.send(line).unwrap(), Sent::AlreadyDelivered);
    }

    #[test]
    fn a_down_endpoint_keeps_the_spool_whole_and_in_order() {
        let root = scratch("deliver-sender-down");
        let lock = OutputLock::acquire(&root, false).unwrap();
        let spool = CallbackSpool::new(&root);
        let lines = [
            r#"{"taskid":"A"}"#,
            r#"{"taskid":"B"}"#,
            r#"{"taskid":"A"}"#,
        ];
        for l in lines {
            spool.append(l).unwrap();
        }
        let sender = CallbackSender::new(&lock, dead_poster()).unwrap();
        let report = sender.redeliver_spool().unwrap();
        assert_eq!((report.delivered, report.still_spooled), (0, 2));
        assert!(report.error.unwrap().contains("connection refused"));
        assert_eq!(spool.read().unwrap().lines, &lines[..2]);
        // Later callbacks queue behind them without another attempt.
        let Sent::Spooled { error } = sender.send(r#"{"taskid":"C"}"#).unwrap() else {
            panic!("expected a spooled callback");
        };
        assert!(
            error.starts_with("not tried: posting the callback to "),
            "{error}"
        );
        assert_eq!(spool.read().unwrap().lines.len(), 3);
    }
}
