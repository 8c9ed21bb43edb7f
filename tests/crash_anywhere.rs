//! Crash anywhere (issue 18): a backfill of several inputs (FLV pushes and a packet capture) in
//! all three formats, uploading to `s3s-fs` and posting callbacks to a receiver, both on
//! 127.0.0.1, is killed with SIGKILL at a moment chosen by a seed — byte BYTE of its SESSION-th
//! push session reached (`KLS_REC_TEST_KILL_AT`, see `kls_rec::killpoint`) — then run again.
//! After the re-run the output root, the bucket and the receiver must hold exactly what one
//! uninterrupted run gives: every file and object once with the right bytes, every callback
//! accepted, no temporary left. Callbacks are delivered at least once: a kill after the receiver
//! accepted a callback but before the delivered-log recorded it (another stream's thread may be
//! posting when the reading thread is killed) sends it again on the re-run, byte for byte the
//! same, same `taskid`, so a receiver can drop the repeat. The test allows such repeats and
//! nothing else: no callback that one run would not send, none missing. A failure names the seed; `KLS_REC_CRASH_SEEDS=7` (a
//! list, or `N..M`) runs just those.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::run::{RUN_TIMEOUT, final_files, fixtures, kls_rec, record, spawn, temporaries, walk};
use common::{BUCKET, Receiver, S3Server, have_s3s_fs};
use kls_rec::killpoint;
use kls_rec::sink::local::{hex, md5_of_file};
use kls_rec::testutil::{scratch, testdata};

const SEEDS: u64 = 50;

fn inputs() -> Vec<PathBuf> {
    let mut v = fixtures();
    v.push(testdata("capture/cam.pcap"));
    v
}

/// Push sessions the inputs hold (the capture holds two), and the largest input's size.
fn kill_range() -> (u64, u64) {
    let sizes = inputs()
        .into_iter()
        .map(|p| std::fs::metadata(p).unwrap().len());
    (inputs().len() as u64 + 1, sizes.max().unwrap())
}

fn args(server: &S3Server, receiver: &Receiver) -> Vec<String> {
    [
        "--formats",
        "hls,mp4,flv",
        "--slice",
        "10s",
        "--upload",
        "s3://media/crash",
        "--endpoint",
        &server.endpoint(),
        "--callback",
        &receiver.url(),
    ]
    .map(str::to_string)
    .to_vec()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// What a run leaves: final files, objects (key → size, MD5) and the distinct accepted
/// callbacks; `repeats` counts the accepted ones that repeat an earlier body.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    files: BTreeMap<String, (u64, String)>,
    objects: BTreeMap<String, (u64, String)>,
    callbacks: BTreeSet<String>,
    repeats: usize,
}

fn outcome(root: &Path, server: &S3Server, receiver: &Receiver) -> Outcome {
    let objects = walk(&server.root.join(BUCKET))
        .into_iter()
        .filter(|(rel, _)| !rel.rsplit('/').next().unwrap().starts_with('.'))
        .map(|(rel, p)| {
            let size = std::fs::metadata(&p).unwrap().len();
            (rel, (size, hex(&md5_of_file(&p).unwrap())))
        })
        .collect();
    let accepted = receiver.accepted();
    let callbacks: BTreeSet<String> = accepted.iter().cloned().collect();
    Outcome {
        files: final_files(root),
        objects,
        repeats: accepted.len() - callbacks.len(),
        callbacks,
    }
}

/// A small deterministic generator (SplitMix64).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One seed: a killed run, a re-run, the outcome. Returns whether the kill happened, and how
/// many files were complete when it did.
fn crash_and_rerun(dir: &Path, seed: u64, want: &Outcome) -> (bool, usize) {
    let (sessions, bytes) = kill_range();
    let mut state = seed;
    let at = (
        splitmix(&mut state) % sessions,
        splitmix(&mut state) % bytes,
    );
    let work = dir.join(format!("seed-{seed}"));
    let server = S3Server::start(&work.join("server"));
    let receiver = Receiver::start(0, Vec::new());
    let root = work.join("out");
    let args = args(&server, &receiver);

    let mut c = kls_rec();
    c.env(killpoint::ENV, format!("{}:{}", at.0, at.1))
        .arg("-o")
        .arg(&root)
        .args(&args)
        .args(inputs());
    let mut running = spawn(c, &work.join("logs"), Stdio::null());
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(s) = running.guard.child().try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: the killed run hung"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    running.guard.0 = None;
    let killed = status.code().is_none();
    assert!(
        killed || status.code() == Some(0),
        "seed {seed}: the run to kill at {at:?} failed with {status}"
    );

    let complete = final_files(&root).len();
    let rerun = record(&root, &strs(&args), &inputs());
    assert_eq!(
        rerun.code, 0,
        "seed {seed}: the re-run failed: {}",
        rerun.stderr
    );
    let mut got = outcome(&root, &server, &receiver);
    let repeats = std::mem::take(&mut got.repeats);
    assert_eq!(
        temporaries(&root),
        Vec::<String>::new(),
        "seed {seed} (kill at session {}, byte {}): temporaries left",
        at.0,
        at.1
    );
    assert!(
        got == *want,
        "seed {seed} (kill at session {}, byte {}): the re-run does not give what one run \
         gives\nfiles: {}\nobjects: {}\ncallbacks: {} distinct accepted ({repeats} repeats), \
         {} wanted\n{got:#?}",
        at.0,
        at.1,
        got.files == want.files,
        got.objects == want.objects,
        got.callbacks.len(),
        want.callbacks.len()
    );
    let _ = std::fs::remove_dir_all(&work);
    (killed, complete)
}

fn seeds() -> Vec<u64> {
    let Ok(v) = std::env::var("KLS_REC_CRASH_SEEDS") else {
        return (0..SEEDS).collect();
    };
    if let Some((a, b)) = v.split_once("..") {
        return (a.trim().parse().unwrap()..b.trim().parse().unwrap()).collect();
    }
    v.split(',').map(|s| s.trim().parse().unwrap()).collect()
}

#[test]
fn killed_anywhere_a_rerun_gives_what_one_run_gives() {
    if !have_s3s_fs() {
        return;
    }
    let dir = scratch("crash-anywhere");
    let t = Instant::now();
    let want = {
        let server = S3Server::start(&dir.join("reference/server"));
        let receiver = Receiver::start(0, Vec::new());
        let root = dir.join("reference/out");
        record(&root, &strs(&args(&server, &receiver)), &inputs()).expect(0);
        outcome(&root, &server, &receiver)
    };
    assert!(!want.callbacks.is_empty() && !want.objects.is_empty());
    assert_eq!(want.repeats, 0, "one uninterrupted run repeats no callback");
    assert_eq!(want.objects.len(), want.files.len());
    let (mut killed, mut complete) = (0, Vec::new());
    for seed in seeds() {
        let (k, c) = crash_and_rerun(&dir, seed, &want);
        killed += usize::from(k);
        complete.push(c);
    }
    println!(
        "{} seeds, {killed} runs killed midway with {}..{} of {} files complete, all converged \
         in {:?}",
        seeds().len(),
        complete.iter().min().unwrap_or(&0),
        complete.iter().max().unwrap_or(&0),
        want.files.len(),
        t.elapsed()
    );
    assert!(killed * 2 >= seeds().len(), "most runs are killed midway");
    let _ = std::fs::remove_dir_all(&dir);
}
