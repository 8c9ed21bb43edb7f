//! A full disk while recording (README "Bad input, crashes, full disks"): the run fails with an
//! error naming the file it could not write, exits non-zero, leaves no incomplete file under a
//! final name and no temporary file, keeps every complete file (from an earlier run in the same
//! output root, or from earlier slices of the same run) byte-identical, and a re-run with space
//! finishes the job.
//!
//! Two ways to fill the disk: a small tmpfs mounted for the test (a real `ENOSPC`; needs root,
//! as CI has), and a lowered `RLIMIT_FSIZE` for the child with `SIGXFSZ` ignored, so writes
//! past the limit fail with `EFBIG` (works anywhere).

use std::collections::BTreeMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kls_rec::testutil::{assert_no_temporaries, recording_files, scratch, testdata};

const FORMATS: &str = "hls,mp4,flv";

/// `kls-rec record --quiet -o OUT --formats hls,mp4,flv ARGS…`, the child's files limited to
/// `fsize` bytes each when given.
fn record(out: &Path, args: &[&str], inputs: &[PathBuf], fsize: Option<u64>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
    c.args(["record", "--quiet", "--formats", FORMATS, "-o"])
        .arg(out)
        .args(args)
        .args(inputs);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KLS_REC_") {
            c.env_remove(k);
        }
    }
    if let Some(limit) = fsize {
        // SAFETY: only async-signal-safe calls between fork and exec. An ignored signal stays
        // ignored across exec, so a write past the limit fails with EFBIG instead of killing.
        unsafe {
            c.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let r = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &r) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = c.output().expect("running kls-rec");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    use std::os::unix::process::ExitStatusExt;
    assert!(out.status.signal().is_none(), "killed: {err}");
    out
}

/// Recording files under `root`, relative path → bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    recording_files(root)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(root).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

/// Checks a failed run: non-zero exit, an error naming a file under `root` and the cause, every
/// file present equal to the reference's, at least one missing, nothing temporary left.
fn assert_failed_cleanly(
    out: &Output,
    root: &Path,
    reference: &BTreeMap<PathBuf, Vec<u8>>,
    causes: &[&str],
) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(0),
        "a full disk is a failure: {err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("error:")
            && l.contains("record/live/")
            && causes.iter().any(|c| l.contains(c))),
        "the error names the file and the cause: {err}"
    );
    let got = tree(root);
    for (path, bytes) in &got {
        let want = reference
            .get(path)
            .unwrap_or_else(|| panic!("unexpected file {}", path.display()));
        assert!(
            bytes == want,
            "{} is incomplete or differs ({} bytes, want {})",
            path.display(),
            bytes.len(),
            want.len()
        );
    }
    assert!(got.len() < reference.len(), "nothing was missing: {err}");
    assert_no_temporaries(root);
}

fn studio() -> PathBuf {
    testdata("studio-1764072000.flv")
}

fn earlier_push() -> PathBuf {
    testdata("push/show-1764075600.flv")
}

#[test]
fn a_file_size_limit_fails_cleanly_and_a_rerun_finishes() {
    let dir = scratch("diskfull-fsize");
    let reference_root = dir.join("reference");
    let args = ["--slice", "10s"];
    let inputs = [earlier_push(), studio()];
    let out = record(&reference_root, &args, &inputs, None);
    assert_eq!(out.status.code(), Some(0));
    let reference = tree(&reference_root);
    // Just under the largest file: that one cannot be written, smaller ones can.
    let largest = reference.values().map(Vec::len).max().unwrap() as u64;
    let root = dir.join("root");
    // An earlier run's recording already in the root.
    assert_eq!(
        record(&root, &args, &[earlier_push()], None).status.code(),
        Some(0)
    );
    let earlier = tree(&root);
    let out = record(&root, &args, &inputs, Some(largest - 1));
    assert_failed_cleanly(&out, &root, &reference, &["File too large", "os error 27"]);
    for (path, bytes) in &earlier {
        assert!(&tree(&root)[path] == bytes, "{} changed", path.display());
    }
    // With room again, the same command completes the job byte-identically.
    let out = record(&root, &args, &inputs, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tree(&root) == reference);
    assert_no_temporaries(&root);
}

/// A tmpfs of `size_kb`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size_kb: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kb}k"), "tmpfs"])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_tmpfs_fails_cleanly_keeping_earlier_files_and_slices() {
    let dir = scratch("diskfull-tmpfs");
    let reference_root = dir.join("reference");
    let args = ["--slice", "10s"];
    let inputs = [earlier_push(), studio()];
    assert_eq!(
        record(&reference_root, &args, &inputs, None).status.code(),
        Some(0)
    );
    let reference = tree(&reference_root);
    let total_kb = reference.values().map(|b| b.len() as u64).sum::<u64>() / 1024;
    // Room for the earlier push and about half of the studio's slices.
    let Some(fs) = Tmpfs::mount(&dir.join("root"), total_kb * 3 / 5) else {
        assert!(
            std::env::var_os("CI").is_none() || unsafe { libc::geteuid() } != 0,
            "mounting a tmpfs failed although running as root in CI"
        );
        eprintln!("cannot mount a tmpfs here (not root?): the file-size-limit test covers this");
        return;
    };
    let root = fs.0.clone();
    assert_eq!(
        record(&root, &args, &[earlier_push()], None).status.code(),
        Some(0)
    );
    let earlier = tree(&root);
    let out = record(&root, &args, &inputs, None);
    assert_failed_cleanly(
        &out,
        &root,
        &reference,
        &["No space left on device", "os error 28"],
    );
    let after = tree(&root);
    for (path, bytes) in &earlier {
        assert!(&after[path] == bytes, "{} changed", path.display());
    }
    // Earlier slices of the failing run were committed whole before the disk filled.
    assert!(
        after
            .keys()
            .any(|p| p.to_string_lossy().contains("studio-1764072000-")),
        "no slice of the studio push completed: {:?}",
        after.keys().collect::<Vec<_>>()
    );
    drop(fs);
    let _ = std::fs::remove_dir_all(&dir);
}
