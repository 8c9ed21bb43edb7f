//! Delivery as a cron backfill sees it (SPEC §4, §5, §7): the `kls-rec` binary on the committed
//! fixtures, uploading to `s3s-fs` and posting to a scripted callback receiver, both on
//! 127.0.0.1; an S3 outage, a receiver that fails or is down, a run killed midway, and two runs
//! on one output root. Every child process is killed when its test ends, pass or fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    ACCESS_KEY, BUCKET, ChildGuard, CountingProxy, Receiver, S3Server, SECRET_KEY, free_port,
    get_object, have_s3s_fs,
};
use kls_rec::sink::local::{hex, md5_of_file};
use kls_rec::testutil::{scratch, testdata};
use md5::{Digest, Md5};
use serde_json::Value;

/// Longest any one run may take on a loaded machine before the test gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The committed pushes: one 30 s studio push and three 10 s pushes of `show` (the first two
/// splice, the third opens a new file), 3 files in all.
fn fixtures() -> Vec<PathBuf> {
    let mut v = vec![testdata("studio-1764072000.flv")];
    for t in ["1764075600", "1764075670", "1764075980"] {
        v.push(testdata(&format!("push/show-{t}.flv")));
    }
    v
}

/// `kls-rec` with a clean environment: no `KLS_REC_*` settings from the caller, the test
/// credentials, and retries shortened to a few milliseconds.
fn kls_rec() -> Command {
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
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<String> {
        self.stdout.lines().map(str::to_string).collect()
    }

    fn callbacks(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A started run: output goes to files (no pipe can fill up and stall it).
struct Running {
    guard: ChildGuard,
    out: PathBuf,
    err: PathBuf,
}

fn spawn(mut cmd: Command, logs: &Path, stdin: Stdio) -> Running {
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
    fn wait(mut self) -> Run {
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
fn record(out: &Path, args: &[&str], inputs: &[PathBuf]) -> Run {
    let mut c = kls_rec();
    c.arg("-o").arg(out).args(args).args(inputs);
    spawn(c, &out.with_extension("logs"), Stdio::null()).wait()
}

/// A passing test's scratch directory goes (the long pushes and their copies weigh ~200 MB);
/// a failing one's stays for a look.
fn remove_on_success(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// Files under their final names (not starting with `.`), by path relative to `root`:
/// (size, MD5 hex).
fn final_files(root: &Path) -> BTreeMap<String, (u64, String)> {
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
fn temporaries(root: &Path) -> Vec<String> {
    walk(root)
        .into_iter()
        .map(|(rel, _)| rel)
        .filter(|rel| {
            let name = file_name(rel);
            name.starts_with('.') && !name.starts_with(".kls-rec")
        })
        .collect()
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Every file under `root`, as (relative path with `/`, full path), sorted.
fn walk(root: &Path) -> Vec<(String, PathBuf)> {
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
fn long_push(dir: &Path, copies: u32) -> PathBuf {
    let src = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let tags = flv_tags(&src);
    let span_ms = tags.iter().map(|t| t.1).max().unwrap() + 40;
    let mut out = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    for copy in 0..copies {
        for &(kind, ts, body) in &tags {
            let sequence_header = match kind {
                9 => body.len() > 1 && body[0] & 0x0f == 7 && body[1] == 0,
                8 => body.len() > 1 && body[0] >> 4 == 10 && body[1] == 0,
                _ => true,
            };
            if copy > 0 && sequence_header {
                continue;
            }
            let t = if kind == 18 { 0 } else { ts + copy * span_ms };
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

/// (tag type, timestamp ms, body) of each tag of a well-formed FLV.
fn flv_tags(data: &[u8]) -> Vec<(u8, u32, &[u8])> {
    assert_eq!(&data[..3], b"FLV");
    let mut pos = u32::from_be_bytes(data[5..9].try_into().unwrap()) as usize + 4;
    let mut tags = Vec::new();
    while pos + 11 <= data.len() {
        let h = &data[pos..pos + 11];
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        tags.push((h[0] & 0x1f, ts, &data[pos + 11..pos + 11 + size]));
        pos += 11 + size + 4;
    }
    tags
}

/// The callback's object keys (`itmes[0].keys`) and its taskid.
fn key_of(cb: &Value) -> &str {
    cb["itmes"][0]["keys"][0].as_str().unwrap()
}

fn taskids(callbacks: &[Value]) -> BTreeSet<String> {
    callbacks
        .iter()
        .map(|c| c["taskid"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Objects stored by `s3s-fs` in the bucket, by key: (size, MD5 hex), read through S3.
fn objects(
    server: &S3Server,
    keys: impl Iterator<Item = String>,
) -> BTreeMap<String, (u64, String)> {
    keys.map(|k| {
        let bytes = get_object(&server.endpoint(), &k);
        (k, (bytes.len() as u64, hex(&Md5::digest(&bytes))))
    })
    .collect()
}

/// Keys of the objects `s3s-fs` holds (its files under ROOT/BUCKET, its own metadata left out).
fn stored_keys(server: &S3Server) -> BTreeSet<String> {
    walk(&server.root.join(BUCKET))
        .into_iter()
        .map(|(rel, _)| rel)
        .filter(|rel| !file_name(rel).starts_with('.'))
        .collect()
}

#[test]
fn a_backfill_uploads_exactly_once() {
    if !have_s3s_fs() {
        return;
    }
    let dir = scratch("e2e-upload");
    let server = S3Server::start(&dir.join("server"));
    let proxy = CountingProxy::start(server.port);
    // Above the 16 MiB part size as MP4 and FLV: those go up in two parts each.
    let mut inputs = fixtures();
    inputs.push(long_push(&dir, 38));
    let out = dir.join("out");
    let endpoint = proxy.endpoint();
    let args = [
        "--formats",
        "hls,mp4,flv",
        "--upload",
        "s3://media/backfill",
        "--endpoint",
        endpoint.as_str(),
        "--multipart-threshold",
        "5MiB",
    ];
    let first = record(&out, &args, &inputs).expect(0);

    let local = final_files(&out);
    let want: BTreeMap<String, (u64, String)> = local
        .iter()
        .map(|(rel, v)| (format!("backfill/{rel}"), v.clone()))
        .collect();
    assert_eq!(stored_keys(&server), want.keys().cloned().collect());
    assert_eq!(objects(&server, want.keys().cloned()), want);

    let requests = proxy.methods();
    let parts = requests
        .iter()
        .filter(|r| r.starts_with("PUT ") && r.contains("partNumber=2"))
        .count();
    assert_eq!(
        parts, 2,
        "MP4 and FLV of the long push in parts: {requests:#?}"
    );

    // 4 files (studio, show twice, big) in 3 formats, one callback each.
    let callbacks = first.callbacks();
    assert_eq!(callbacks.len(), 12, "{}", first.stdout);
    for cb in &callbacks {
        let key = key_of(cb);
        let (_, md5) = &want[key];
        assert!(key.starts_with("backfill/record/live/"), "{key}");
        match key.rsplit_once('.').unwrap().1 {
            "m3u8" => assert_eq!(cb["status"], 3, "{cb}"),
            _ => {
                let d = &cb["details"];
                assert_eq!(
                    (&cb["status"], &d["errnum"]),
                    (&3.into(), &0.into()),
                    "{cb}"
                );
                assert_eq!(d["bucket"], BUCKET);
                assert_eq!(d["items"][0]["dstpath"], key);
                assert_eq!(d["items"][0]["ETag"].as_str(), Some(md5.as_str()));
                let cmd = cb["itmes"][0]["cmd"].as_str().unwrap();
                assert!(cmd.contains("&bucket=media&"), "{cmd}");
            }
        }
    }

    // The same backfill again: a HEAD per object, nothing sent, the same callbacks.
    let before = proxy.methods().len();
    let second = record(&out, &args, &inputs).expect(0);
    let again = proxy.methods()[before..].to_vec();
    assert_eq!(again.len(), want.len(), "{again:#?}");
    assert!(again.iter().all(|r| r.starts_with("HEAD ")), "{again:#?}");
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(final_files(&out), local);
    remove_on_success(&dir);
}

#[test]
fn an_s3_outage_keeps_the_files_and_the_next_run_uploads_them() {
    if !have_s3s_fs() {
        return;
    }
    let dir = scratch("e2e-outage");
    let reference = record(
        &dir.join("reference"),
        &["--formats", "hls,mp4,flv"],
        &fixtures(),
    )
    .expect(0);
    let local_want = final_files(&dir.join("reference"));

    let mut server = S3Server::start(&dir.join("server"));
    server.stop();
    let out = dir.join("out");
    let endpoint = server.endpoint();
    let args = [
        "--formats",
        "hls,mp4,flv",
        "--upload",
        "s3://media/backfill",
        "--endpoint",
        endpoint.as_str(),
    ];
    let started = Instant::now();
    let failed = record(&out, &args, &fixtures()).expect(4);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        failed.stderr.contains("the local file is kept"),
        "{}",
        failed.stderr
    );
    let callbacks = failed.callbacks();
    assert_eq!(callbacks.len(), reference.lines().len());
    for cb in &callbacks {
        assert_eq!(cb["status"], 4, "{cb}");
        let desc = cb["itmes"][0]["desc"].as_str().unwrap();
        assert!(desc.contains("connection refused"), "{desc}");
        assert!(desc.contains(&endpoint), "{desc}");
        assert!(!desc.contains(ACCESS_KEY) && !desc.contains(SECRET_KEY));
        if cb["type"] == "avtrans" {
            assert_eq!(cb["details"]["errmsg"].as_str(), Some(desc));
            assert_eq!(cb["details"]["errnum"], 1);
        }
    }
    // Only the first failure of each of the two streams (recorded in parallel) waits out the
    // retries; the uploads after it are not tried.
    let not_tried = callbacks
        .iter()
        .filter(|c| {
            c["itmes"][0]["desc"]
                .as_str()
                .unwrap()
                .contains(": not tried: ")
        })
        .count();
    assert!(not_tried >= callbacks.len() - 2, "{}", failed.stdout);
    assert_eq!(final_files(&out), local_want);
    assert!(stored_keys(&server).is_empty());

    // Back up: the next run uploads everything and reports success under the same taskids.
    server.restart();
    let done = record(&out, &args, &fixtures()).expect(0);
    let done_callbacks = done.callbacks();
    assert!(
        done_callbacks.iter().all(|c| c["status"] == 3),
        "{}",
        done.stdout
    );
    assert_eq!(taskids(&done_callbacks), taskids(&callbacks));
    let want: BTreeMap<String, (u64, String)> = local_want
        .iter()
        .map(|(rel, v)| (format!("backfill/{rel}"), v.clone()))
        .collect();
    assert_eq!(stored_keys(&server), want.keys().cloned().collect());
    assert_eq!(objects(&server, want.keys().cloned()), want);
    assert_eq!(final_files(&out), local_want);
    remove_on_success(&dir);
}

#[test]
fn callbacks_are_retried_spooled_and_delivered_once() {
    let dir = scratch("e2e-callbacks");
    let formats = ["--formats", "hls,mp4,flv"];
    let printed = record(&dir.join("printed"), &formats, &fixtures()).expect(0);
    let want = sorted(printed.lines());
    assert_eq!(want.len(), 9);

    // A receiver that fails twice: the first callback is retried, each is accepted once.
    let flaky = Receiver::start(0, vec![500, 500]);
    let url = flaky.url();
    let run = record(
        &dir.join("flaky"),
        &[&formats[..], &["--callback", &url]].concat(),
        &fixtures(),
    )
    .expect(0);
    assert_eq!(run.stdout, "", "callbacks are posted, not printed");
    assert_eq!(sorted(flaky.accepted()), want);
    let got = flaky.received();
    assert_eq!(got.len(), want.len() + 2);
    assert_eq!(
        (got[0].status, got[1].status, got[2].status),
        (500, 500, 200)
    );
    assert!(got[0].body == got[2].body && got[1].body == got[2].body);
    for r in &got {
        assert!(
            r.head.starts_with("POST /kls/callback HTTP/1.1\r\n"),
            "{}",
            r.head
        );
        assert!(
            r.head
                .to_ascii_lowercase()
                .contains("content-type: application/json")
        );
    }
    drop(flaky);

    // A receiver that is down: exit 4, every callback in the spool.
    let root = dir.join("down");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/kls/callback");
    let args = [&formats[..], &["--callback", &url]].concat();
    let down = record(&root, &args, &fixtures()).expect(4);
    assert_eq!(down.stdout, "");
    assert!(down.stderr.contains("kept in the spool"), "{}", down.stderr);
    let spool = root.join(".kls-rec-callbacks.spool");
    let spooled: Vec<String> = std::fs::read_to_string(&spool)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(sorted(spooled.clone()), want);

    // Up again: the spool goes first, in order, and the run's own callbacks, identical, are
    // not sent a second time.
    let up = Receiver::start(port, Vec::new());
    let rerun = record(&root, &args, &fixtures()).expect(0);
    assert!(
        rerun
            .stderr
            .contains("callbacks from earlier runs: 9 delivered, 0 still spooled"),
        "{}",
        rerun.stderr
    );
    assert_eq!(up.accepted(), spooled);
    assert_eq!(up.received().len(), want.len());
    assert!(!spool.exists());
    let spooled_ids: Vec<Value> = spooled
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(taskids(&spooled_ids), taskids(&printed.callbacks()));

    // And once more: nothing left to send.
    record(&root, &args, &fixtures()).expect(0);
    assert_eq!(up.received().len(), want.len());
    assert_eq!(final_files(&root), final_files(&dir.join("printed")));
    remove_on_success(&dir);
}

/// `--stream`/`--start-time` for a push read from stdin, as the file name would give them.
const BIG_ON_STDIN: [&str; 4] = ["--stream", "big", "--start-time", "1764072000"];

#[test]
fn a_killed_run_leaves_only_complete_files_and_a_rerun_finishes_the_job() {
    let dir = scratch("e2e-kill");
    let big = long_push(&dir, 8);
    // One-minute slices: the 4-minute push makes 4 files per format.
    let args = ["--formats", "hls,mp4,flv", "--slice", "1m"];
    let reference_root = dir.join("reference");
    let reference = record(
        &reference_root,
        &[&args[..], &BIG_ON_STDIN[..]].concat(),
        std::slice::from_ref(&big),
    )
    .expect(0);
    let want = final_files(&reference_root);

    // The push arrives on a pipe; half of it is written, then the run is killed while it
    // waits for more, some files complete and others in progress.
    let root = dir.join("killed");
    let mut c = kls_rec();
    c.arg("-o")
        .arg(&root)
        .args(args)
        .args(BIG_ON_STDIN)
        .arg("-");
    let mut running = spawn(c, &dir.join("logs"), Stdio::piped());
    let bytes = std::fs::read(&big).unwrap();
    let mut stdin = running.guard.child().stdin.take().unwrap();
    stdin.write_all(&bytes[..bytes.len() / 2]).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + RUN_TIMEOUT;
    while !final_files(&root).keys().any(|k| k.ends_with(".mp4")) {
        assert!(
            Instant::now() < deadline,
            "no MP4 completed from half the push"
        );
        assert!(
            running.guard.child().try_wait().unwrap().is_none(),
            "the run ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    running.guard.kill();
    drop(stdin);

    let killed = final_files(&root);
    assert!(
        !killed.is_empty() && killed.len() < want.len(),
        "{killed:#?}"
    );
    for (name, got) in &killed {
        assert_eq!(want.get(name), Some(got), "{name} is not the complete file");
    }
    // The killed run's temporaries stay until a run writes in their directories again.
    assert!(!temporaries(&root).is_empty());

    // The re-run into the same root completes the job, identical to the uninterrupted run.
    let rerun = record(
        &root,
        &[&args[..], &BIG_ON_STDIN[..]].concat(),
        std::slice::from_ref(&big),
    )
    .expect(0);
    assert_eq!(final_files(&root), want);
    assert_eq!(rerun.stdout, reference.stdout);
    assert_eq!(temporaries(&root), Vec::<String>::new());
    remove_on_success(&dir);
}

#[test]
fn a_second_run_on_the_same_root_is_refused() {
    let dir = scratch("e2e-two-runs");
    let studio = testdata("studio-1764072000.flv");
    let args = [
        "--formats",
        "hls,mp4,flv",
        "--stream",
        "studio",
        "--start-time",
        "1764072000",
    ];
    record(&dir.join("reference"), &args, std::slice::from_ref(&studio)).expect(0);

    // The first run reads its push from a pipe and holds the root while it waits.
    let root = dir.join("out");
    let mut c = kls_rec();
    c.arg("-o").arg(&root).args(args).arg("-");
    let mut first = spawn(c, &dir.join("logs"), Stdio::piped());
    let pid = first.guard.id();
    let lock = root.join(".kls-rec.lock");
    let deadline = Instant::now() + RUN_TIMEOUT;
    while std::fs::read_to_string(&lock)
        .ok()
        .as_deref()
        .map(str::trim)
        != Some(&pid.to_string())
    {
        assert!(
            Instant::now() < deadline,
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let second = record(&root, &args, std::slice::from_ref(&studio)).expect(1);
    assert!(
        second.stderr.contains(&format!(
            "output directory {} is in use by another kls-rec run (pid {pid})",
            root.display()
        )),
        "{}",
        second.stderr
    );
    assert_eq!(second.stdout, "");

    // The first run, fed its push, finishes untouched.
    let mut stdin = first.guard.child().stdin.take().unwrap();
    stdin.write_all(&std::fs::read(&studio).unwrap()).unwrap();
    drop(stdin);
    let done = first.wait().expect(0);
    assert_eq!(done.callbacks().len(), 3);
    assert_eq!(final_files(&root), final_files(&dir.join("reference")));
    assert!(temporaries(&root).is_empty(), "{:?}", temporaries(&root));
    remove_on_success(&dir);
}
