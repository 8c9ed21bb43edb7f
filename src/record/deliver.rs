//! Upload of finished files, before their callbacks are sent.

use anyhow::{Context, Result};

use super::StreamRun;
use crate::callback::FileReport;
use crate::mux::Produced;

/// Where finished files and their callbacks go besides the local output root.
pub struct Delivery {
    pub uploader: Option<crate::deliver::Uploader>,
    /// Local files are removed once uploaded.
    pub delete_after_upload: bool,
    /// POSTs callbacks (with retries and the spool) instead of printing them.
    pub callbacks: Option<crate::deliver::CallbackSender>,
}

impl StreamRun<'_, '_> {
    /// Uploads a finished file; the callback then names the uploaded key and bucket, or says
    /// status 4 with the error. The local files are always kept unless uploaded and asked to go.
    /// Returns false when the upload gave up.
    pub(super) fn deliver_file(
        &mut self,
        delivery: &Delivery,
        produced: &Produced,
        report: &mut FileReport,
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
                writeln!(self.io.log, "error: {e:#}; the local file is kept")?;
                report.error = Some(format!("{e:#}"));
                return Ok(false);
            }
        }
        Ok(true)
    }
}
