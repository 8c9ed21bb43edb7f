//! Stream keys recorded side by side (`--jobs`) and split across machines (`--shard`), with
//! output that never depends on how the work was split.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Outputs, RecordOptions, Reports, Summary, hand_over, record_group};
use crate::input::PendingSession;

/// A stable hash-partition of stream keys, so N machines split a backfill with no coordination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub(crate) index: u64,
    pub(crate) count: u64,
}

impl Shard {
    /// Whether a stream belongs to this shard: the first 8 bytes of MD5(`app/stream`), big
    /// endian, modulo the shard count. Stable across machines, runs and versions.
    pub(crate) fn owns(&self, app: &str, stream: &str) -> bool {
        use md5::{Digest, Md5};
        let digest = Md5::digest(format!("{app}/{stream}").as_bytes());
        let h = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        h % self.count == self.index
    }
}

/// Streams are independent: `opts.jobs` workers take them in key order, and each stream's
/// callbacks and messages are printed, in key order, once it is done, so the output does not
/// depend on the number of jobs.
pub(super) fn record_parallel(
    groups: &mut (dyn Iterator<Item = Vec<PendingSession>> + Send),
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
    summary: &mut Summary,
    reports: &mut Option<&mut dyn Reports>,
) -> Result<()> {
    use std::sync::Mutex;
    use std::sync::mpsc;

    let queue = Mutex::new(groups.enumerate());
    let (done, results) = mpsc::channel::<(usize, Vec<u8>, Vec<u8>, Result<Summary>)>();
    let progress = io.progress;
    let delivery = io.delivery;
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..opts.jobs {
            let done = done.clone();
            let queue = &queue;
            scope.spawn(move || {
                loop {
                    let next = queue.lock().expect("queue lock").next();
                    let Some((index, sessions)) = next else {
                        break;
                    };
                    let (mut out, mut log) = (Vec::new(), Vec::new());
                    let mut part = Summary::default();
                    let result = record_group(
                        sessions,
                        opts,
                        &mut Outputs {
                            out: &mut out,
                            log: &mut log,
                            progress,
                            delivery,
                        },
                        &mut part,
                    )
                    .map(|()| part);
                    if done.send((index, out, log, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut pending = BTreeMap::new();
        let mut next_to_print = 0;
        for (index, out, log, result) in results {
            pending.insert(index, (out, log, result));
            while let Some((out, log, result)) = pending.remove(&next_to_print) {
                io.log.write_all(&log)?;
                io.out.write_all(&out)?;
                io.out.flush()?;
                let part = result?;
                summary.files.extend(part.files);
                summary.damage += part.damage;
                summary.not_recorded += part.not_recorded;
                summary.lost_media += part.lost_media;
                summary.failures.extend(part.failures);
                summary.streams.extend(part.streams);
                summary.delivery_failures += part.delivery_failures;
                hand_over(reports, summary)?;
                next_to_print += 1;
            }
        }
        Ok(())
    })
}
