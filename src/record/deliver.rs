//! A finished file's way out: each format's file uploaded (when asked), then its callback
//! shaped and sent, or printed.

use std::io::Write;

use anyhow::{Context, Result};

use super::file::OpenFile;
use super::{FileResult, Outputs};
use crate::callback::{self, FileReport};
use crate::mediainfo;
use crate::mux::{Format, Produced};
use crate::sink::naming;

/// Where finished files and their callbacks go besides the local output root.
pub struct Delivery {
    pub(crate) uploader: Option<crate::deliver::Uploader>,
    /// Local files are removed once uploaded.
    pub(crate) delete_after_upload: bool,
    /// POSTs callbacks (with retries and the spool) instead of printing them.
    pub(crate) callbacks: Option<crate::deliver::CallbackSender>,
}

/// What handing a file's formats out came to.
pub(super) struct HandedOut {
    /// Uploads that gave up and callbacks left in the spool.
    pub(crate) delivery_failures: usize,
    /// The first format that failed to complete: the others are committed already, so each
    /// was handed out before this is reported.
    pub(crate) failed: Option<anyhow::Error>,
}

/// Hands out the formats of `file` as they finished (`finished`, in the order of `results`):
/// each completed one uploaded and its callback sent, its result given what it produced.
pub(super) fn hand_out(
    finished: Vec<(Format, Result<Produced>)>,
    results: &mut [FileResult],
    file: &OpenFile,
    stream: &str,
    callback_times: bool,
    io: &mut Outputs<'_>,
) -> Result<HandedOut> {
    let mut out = HandedOut {
        delivery_failures: 0,
        failed: None,
    };
    for ((format, produced), result) in finished.into_iter().zip(results) {
        let produced = match produced.with_context(|| format!("completing {}", result.key)) {
            Ok(produced) => produced,
            Err(e) => {
                out.failed.get_or_insert(e);
                continue;
            }
        };
        let mut report = FileReport {
            key: result.key.clone(),
            vdoid: file.vdoid.clone(),
            stream: stream.to_string(),
            bucket: String::new(),
            start_time_s: naming::name_second(result.wall_start_ms),
            end_time_s: naming::name_second(result.wall_end_ms),
            error: None,
        };
        if let Some(delivery) = io.delivery
            && !upload(delivery, &produced, &mut report, io.log)?
        {
            out.delivery_failures += 1;
        }
        let line = match format {
            Format::Hls => callback::hls(&report, produced.total_size, callback_times),
            Format::Mp4 | Format::Flv => {
                let config = file.config_of(format);
                let stats = file.stats_of(format);
                let info = mediainfo::describe(format, produced.size, config, &stats);
                callback::avtrans(&report, &produced.md5, Some(&info))
            }
        };
        if !send(io, &line, &result.key)? {
            out.delivery_failures += 1;
        }
        io.progress.file_done(&result.key);
        result.produced = Some(produced);
    }
    Ok(out)
}

/// Sends a callback (POSTed, or printed when no receiver is given). Returns false when it was
/// kept in the spool.
fn send(io: &mut Outputs<'_>, line: &str, key: &str) -> Result<bool> {
    match io.delivery.and_then(|d| d.callbacks.as_ref()) {
        Some(sender) => {
            if let crate::deliver::Sent::Spooled { error } = sender.send(line)? {
                writeln!(
                    io.log,
                    "warning: callback for {key} kept in the spool: {error}"
                )?;
                return Ok(false);
            }
        }
        None => {
            writeln!(io.out, "{line}")?;
            io.out.flush()?;
        }
    }
    Ok(true)
}

/// Uploads a finished file; the callback then names the uploaded key and bucket, or says
/// status 4 with the error. The local files are always kept unless uploaded and asked to go.
/// Returns false when the upload gave up.
fn upload(
    delivery: &Delivery,
    produced: &Produced,
    report: &mut FileReport,
    log: &mut dyn Write,
) -> Result<bool> {
    let Some(uploader) = &delivery.uploader else {
        return Ok(true);
    };
    let key = report.key.clone();
    report.key = uploader.key_for(&key);
    report.bucket = uploader.bucket().to_string();
    match uploader.upload_produced(produced, &key) {
        Ok(_) => {
            if delivery.delete_after_upload {
                for path in produced.parts.iter().chain([&produced.path]) {
                    std::fs::remove_file(path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
            }
        }
        Err(e) => {
            writeln!(log, "error: {e:#}; the local file is kept")?;
            report.error = Some(format!("{e:#}"));
            return Ok(false);
        }
    }
    Ok(true)
}
