//! Delivery as a cron backfill sees it (README "Callbacks", "Upload and callback delivery", "Bad
//! input, crashes, full disks"): the `kls-rec` binary on the committed fixtures, uploading to
//! `s3s-fs` and posting to a scripted callback receiver, both on 127.0.0.1; an S3 outage, a
//! receiver that fails or is down, a run killed midway, and two runs on one output root. Every
//! child process is killed when its test ends, pass or fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::run::{
    RUN_TIMEOUT, file_name, final_files, fixtures, kls_rec, long_push, record, remove_on_success,
    spawn, temporaries, walk,
};
use common::{
    ACCESS_KEY, BUCKET, CountingProxy, Receiver, S3Server, SECRET_KEY, free_port, get_object,
    have_s3s_fs,
};
use kls_rec::sink::local::hex;
use kls_rec::testutil::{scratch, testdata};
use md5::{Digest, Md5};
use serde_json::Value;

/// The callback's object key (`itmes[0].keys[0]`).
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

/// Keys of the objects `s3s-fs` holds: its files under ROOT/BUCKET (it keeps metadata elsewhere).
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
