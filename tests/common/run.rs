//! Running the `kls-rec` binary from tests, and looking at what it wrote: runs bounded in time
//! with their output in files, the final and temporary files of an output root, and a long push
//! built from a committed fixture.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kls_rec::input::flv::TagKind;
use kls_rec::sink::local::{hex, md5_of_file};
use kls_rec::testutil::{flv_tags, testdata};
use serde_json::Value;

use super::{ACCESS_KEY, ChildGuard, SECRET_KEY};

/// Longest any one run may take on a loaded machine before the test gives up on it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The committed pushes: one 30 s studio push and three 10 s pushes of `show` (the first two
/// splice, the third opens a new file), 3 files in all.
pub fn fixtures() -> Vec<PathBuf> {
    let mut v = vec![testdata("studio-1764072000.flv")];
    for t in ["1764075600", "1764075670", "1764075980"] {
        v.push(testdata(&format!("push/show-{t}.flv")));
    }
    v
}

/// `kls-rec` with a clean environment: no `KLS_REC_*` settings from the caller, the test
/// credentials, and retries shortened to a few milliseconds.
pub fn kls_rec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KLS_REC_") {
            c.env_remove(k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env_remove("AWS_SESSION_TOKEN")
        .env("KLS_REC_RETRY_ATTEMPTS", "3")
        .env("KLS_REC_RETRY_MAX_MS", "50")
        .arg("record")
        .arg("--quiet");
    c
}

/// A finished run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lines().map(str::to_string).collect()
    }

    pub fn callbacks(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A started run: output goes to files (no pipe can fill up and stall it).
pub struct Running {
    pub guard: ChildGuard,
    out: PathBuf,
    err: PathBuf,
}

pub fn spawn(mut cmd: Command, logs: &Path, stdin: Stdio) -> Running {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::fs::create_dir_all(logs).unwrap();
    let (out, err) = (logs.join(format!("{n}.out")), logs.join(format!("{n}.err")));
    let child = cmd
        .stdin(stdin)
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .expect("starting kls-rec");
    Running {
        guard: ChildGuard::new(child),
        out,
        err,
    }
}

impl Running {
    pub fn wait(mut self) -> Run {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(s) = self.guard.child().try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "kls-rec ran longer than {RUN_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&self.err).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.guard.0 = None;
        Run {
            code: status.code().expect("kls-rec ended by a signal"),
            stdout: std::fs::read_to_string(&self.out).unwrap(),
            stderr: std::fs::read_to_string(&self.err).unwrap(),
        }
    }
}

/// `kls-rec record --quiet -o OUT ARGS… INPUTS…`, run to completion.
pub fn record(out: &Path, args: &[&str], inputs: &[PathBuf]) -> Run {
    let mut c = kls_rec();
    c.arg("-o").arg(out).args(args).args(inputs);
    spawn(c, &out.with_extension("logs"), Stdio::null()).wait()
}

/// A passing test's scratch directory goes (the long pushes and their copies weigh ~200 MB);
/// a failing one's stays for a look.
pub fn remove_on_success(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// Files under their final names (not starting with `.`), by path relative to `root`:
/// (size, MD5 hex).
pub fn final_files(root: &Path) -> BTreeMap<String, (u64, String)> {
    walk(root)
        .into_iter()
        .filter(|(rel, _)| !file_name(rel).starts_with('.'))
        .map(|(rel, p)| {
            let size = std::fs::metadata(&p).unwrap().len();
            (rel, (size, hex(&md5_of_file(&p).unwrap())))
        })
        .collect()
}

/// Hidden temporaries (`.…partial`, `.…spool`) under `root`, kls-rec's own state left out.
pub fn temporaries(root: &Path) -> Vec<String> {
    walk(root)
        .into_iter()
        .map(|(rel, _)| rel)
        .filter(|rel| {
            let name = file_name(rel);
            name.starts_with('.') && !name.starts_with(".kls-rec")
        })
        .collect()
}

pub fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Every file under `root`, as (relative path with `/`, full path), sorted.
pub fn walk(root: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                found.push((rel, p));
            }
        }
    }
    found.sort();
    found
}

/// An FLV made of `copies` back-to-back repetitions of the studio fixture's tags, timestamps
/// rising (sequence headers and metadata once, at the start): a long push of one stream,
/// `copies` × 30 s, about 460 KB per copy. Written as `big-1764072000.flv` in `dir`.
pub fn long_push(dir: &Path, copies: u32) -> PathBuf {
    let src = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let (_, tags) = flv_tags(&src);
    let span_ms = tags.iter().map(|t| t.timestamp_ms).max().unwrap() + 40;
    let mut out = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    for copy in 0..copies {
        for tag in &tags {
            let (ts, body) = (tag.timestamp_ms, tag.data.as_slice());
            let sequence_header = match tag.kind {
                TagKind::Video => body.len() > 1 && body[0] & 0x0f == 7 && body[1] == 0,
                TagKind::Audio => body.len() > 1 && body[0] >> 4 == 10 && body[1] == 0,
                TagKind::Script => true,
            };
            if copy > 0 && sequence_header {
                continue;
            }
            let (kind, t) = match tag.kind {
                TagKind::Audio => (8, ts + copy * span_ms),
                TagKind::Video => (9, ts + copy * span_ms),
                TagKind::Script => (18, 0),
            };
            out.push(kind);
            out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            out.extend_from_slice(&(t & 0x00ff_ffff).to_be_bytes()[1..]);
            out.push((t >> 24) as u8);
            out.extend_from_slice(&[0, 0, 0]);
            out.extend_from_slice(body);
            out.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
        }
    }
    let path = dir.join("big-1764072000.flv");
    std::fs::write(&path, out).unwrap();
    path
}
