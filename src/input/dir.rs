//! A local directory as an input: every file under it, recursively, in name order (as an
//! `s3://` prefix is every object under it, in key order). Hidden entries (`.name`, such as an
//! output root's `.kls-rec.lock`) are skipped, symbolic links to directories are not followed
//! (no loops), and the `.ts` segments of a directory that holds a playlist are read through the
//! playlist, not again on their own.

use std::fs;
use std::path::{Path, PathBuf};

use super::{InputError, InputOptions, PendingSession};

/// The files `dir` stands for, in the order they are read.
pub(crate) fn list(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    if files.is_empty() {
        return Err(InputError::new(
            &dir.display().to_string(),
            None,
            "no files in this directory",
        ));
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let name = dir.display().to_string();
    let mut entries: Vec<(PathBuf, fs::FileType)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| InputError::io(&name, None, e))? {
        let entry = entry.map_err(|e| InputError::io(&name, None, e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| InputError::io(&name, None, e))?;
        entries.push((entry.path(), kind));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let has_playlist = entries
        .iter()
        .any(|(p, _)| p.extension().is_some_and(|e| e == "m3u8"));
    for (path, kind) in entries {
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_symlink() && path.is_dir() {
            continue;
        } else if !(has_playlist && path.extension().is_some_and(|e| e == "ts")) {
            files.push(path);
        }
    }
    Ok(())
}

/// Opens every file under `dir` as its own input would be opened.
pub(crate) fn open(dir: &Path, opts: &InputOptions) -> Result<Vec<PendingSession>, InputError> {
    let mut sessions = Vec::new();
    for file in list(dir)? {
        sessions.extend(super::open(&file.display().to_string(), opts)?);
    }
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_name_order_without_hidden_or_segments() {
        let root = std::env::temp_dir().join(format!("kls-rec-dir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for f in [
            "b/2.flv",
            "b/1.flv",
            "a.flv",
            ".kls-rec.lock",
            ".hidden/x.flv",
            "hls/x.m3u8",
            "hls/x-0.ts",
            "lone/y.ts",
        ] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, b"").unwrap();
        }
        let got: Vec<String> = list(&root)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        assert_eq!(
            got,
            ["a.flv", "b/1.flv", "b/2.flv", "hls/x.m3u8", "lone/y.ts"]
        );
        fs::create_dir_all(root.join("empty")).unwrap();
        assert!(list(&root.join("empty")).is_err());
        let _ = fs::remove_dir_all(&root);
    }
}
