//! FLV reader (stub).

use std::path::Path;

use super::{InputError, InputOptions, PendingSession};

pub fn open_path(path: &Path, _opts: &InputOptions) -> Result<PendingSession, InputError> {
    Err(InputError::new(
        &path.display().to_string(),
        None,
        "FLV reading is not available yet",
    ))
}

pub fn open_stdin(_opts: &InputOptions) -> Result<PendingSession, InputError> {
    Err(InputError::new(
        "-",
        None,
        "FLV reading is not available yet",
    ))
}
