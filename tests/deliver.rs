//! Delivery against real servers on 127.0.0.1: uploads to `s3s-fs` (the S3 protocol with
//! signature checks), callbacks to a hand-written HTTP/1.1 listener, the spool and the lock.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{
    ACCESS_KEY, BUCKET, CountingProxy, Received, S3Server, SECRET_KEY, free_port, get_object,
    have_s3s_fs, read_request, reply,
};

use kls_rec::deliver::{
    CallbackSender, OutputLock, Poster, RetryPolicy, S3Credentials, S3Options, Sent, Timeouts,
    UploadOutcome, Uploader,
};
use kls_rec::format::Format;
use kls_rec::mux::Produced;
use kls_rec::sink::local::hex;
use kls_rec::testutil::scratch;
use md5::{Digest, Md5};

fn test_options() -> S3Options {
    S3Options {
        multipart_threshold: 6 << 20,
        part_size: 5 << 20,
        retry: RetryPolicy::quick(3),
        request_timeout: Duration::from_secs(30),
    }
}

fn uploader(endpoint: &str, target: &str) -> Uploader {
    Uploader::with_credentials(
        target,
        Some(endpoint),
        None,
        None,
        S3Credentials::new(ACCESS_KEY, SECRET_KEY, None),
    )
    .unwrap()
    .with_options(test_options())
}

/// Bytes that no two tests share, cheap to make: xorshift output.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, [u8; 16]) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    (p, Md5::digest(bytes).into())
}

#[test]
fn s3_uploads_are_exact_idempotent_and_survive_an_outage() {
    if !have_s3s_fs() {
        return;
    }
    let dir = scratch("deliver-s3");
    let mut server = S3Server::start(&dir.join("server"));
    let proxy = CountingProxy::start(server.port);
    let via_proxy = format!("http://127.0.0.1:{}", proxy.port);
    let up = uploader(&via_proxy, "s3://media/backfill/");
    assert_eq!(up.bucket(), BUCKET);

    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let small = pseudo_random(100_000, 1);
    let big = pseudo_random((11 << 20) + 12345, 2);
    let (small_path, small_md5) = write_file(&local, "a.flv", &small);
    let (big_path, big_md5) = write_file(&local, "b.mp4", &big);
    let small_key = "record/live/cam/flv/cam-1-2.flv";
    let big_key = "record/live/cam/mp4/cam-1-2.mp4";

    assert_eq!(
        up.upload(&small_path, small_key, small_md5).unwrap(),
        UploadOutcome::Uploaded
    );
    assert_eq!(
        up.upload(&big_path, big_key, big_md5).unwrap(),
        UploadOutcome::Uploaded
    );
    let methods = proxy.methods();
    // One single PUT; the big file in three parts (5 + 5 + 1 MiB) between POSTs.
    let puts = methods.iter().filter(|m| m.starts_with("PUT ")).count();
    let posts = methods.iter().filter(|m| m.starts_with("POST ")).count();
    assert_eq!((puts, posts), (4, 2), "{methods:#?}");

    for (key, bytes) in [(small_key, &small), (big_key, &big)] {
        let object = up.key_for(key);
        assert_eq!(object, format!("backfill/{key}"));
        let got = get_object(&server.endpoint(), &object);
        assert_eq!(got.len(), bytes.len(), "{object}");
        assert_eq!(
            hex(&Md5::digest(&got)),
            hex(&Md5::digest(bytes)),
            "{object}"
        );
    }

    // Identical content again: a HEAD each, nothing sent.
    let before = proxy.methods().len();
    assert_eq!(
        up.upload(&small_path, small_key, small_md5).unwrap(),
        UploadOutcome::AlreadyPresent
    );
    assert_eq!(
        up.upload(&big_path, big_key, big_md5).unwrap(),
        UploadOutcome::AlreadyPresent
    );
    let again: Vec<String> = proxy.methods()[before..].to_vec();
    assert_eq!(again.len(), 2, "{again:#?}");
    assert!(again.iter().all(|m| m.starts_with("HEAD ")), "{again:#?}");

    // Other bytes under an existing key: refused, as local files are, and nothing is sent.
    let (other_path, other_md5) = write_file(&local, "other.flv", b"other bytes");
    let before = proxy.methods().len();
    let e = format!(
        "{:#}",
        up.upload(&other_path, small_key, other_md5).unwrap_err()
    );
    assert!(
        e.contains(
            "already holds a different object under backfill/record/live/cam/flv/cam-1-2.flv"
        ),
        "{e}"
    );
    assert_eq!(proxy.methods().len(), before + 1);

    // A file that changed since its MD5 was taken is refused.
    let e = up
        .upload(&small_path, "record/live/cam/flv/other.flv", big_md5)
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("changed since it was written"),
        "{e:#}"
    );

    // HLS: segments first, the playlist last, all beside each other.
    let (seg0, _) = write_file(&local, "cam-1-0.ts", &pseudo_random(5000, 3));
    let (seg1, _) = write_file(&local, "cam-1-1.ts", &pseudo_random(7000, 4));
    let playlist = b"#EXTM3U\n#EXT-X-ENDLIST\n";
    let (pl, pl_md5) = write_file(&local, "cam-1-2.m3u8", playlist);
    let produced = Produced {
        format: Format::Hls,
        path: pl,
        size: playlist.len() as u64,
        md5: pl_md5,
        parts: vec![seg0, seg1],
        total_size: 0,
        written: true,
        next_segment: 2,
    };
    let done = up
        .upload_produced(&produced, "record/live/cam/hls/cam-1-2.m3u8")
        .unwrap();
    let keys: Vec<&str> = done.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "record/live/cam/hls/cam-1-0.ts",
            "record/live/cam/hls/cam-1-1.ts",
            "record/live/cam/hls/cam-1-2.m3u8"
        ]
    );
    assert_eq!(
        get_object(
            &server.endpoint(),
            "backfill/record/live/cam/hls/cam-1-2.m3u8"
        ),
        playlist
    );

    // The server goes away: a clear error after the bounded retries, naming what and where.
    let direct = uploader(&server.endpoint(), "s3://media/backfill");
    let (c_path, c_md5) = write_file(&local, "c.flv", &pseudo_random(3000, 5));
    let c_key = "record/live/cam/flv/cam-3-4.flv";
    server.stop();
    let started = Instant::now();
    let e = format!("{:#}", direct.upload(&c_path, c_key, c_md5).unwrap_err());
    assert!(started.elapsed() < Duration::from_secs(10));
    let want = format!(
        "uploading {c_key} to s3://media/backfill: connection refused ({}) after 3 attempts over ",
        server.endpoint()
    );
    assert!(e.starts_with(&want), "{e}");
    assert!(!e.contains(ACCESS_KEY) && !e.contains(SECRET_KEY), "{e}");

    // The endpoint is down for the rest of this uploader's run: later files fail at once.
    server.restart();
    let started = Instant::now();
    let e = format!("{:#}", direct.upload(&c_path, c_key, c_md5).unwrap_err());
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        e.starts_with(&format!(
            "uploading {c_key} to s3://media/backfill: not tried: "
        )),
        "{e}"
    );

    // Back up: the next run's uploader succeeds.
    let next = uploader(&server.endpoint(), "s3://media/backfill");
    assert_eq!(
        next.upload(&c_path, c_key, c_md5).unwrap(),
        UploadOutcome::Uploaded
    );
    assert_eq!(
        get_object(&server.endpoint(), &next.key_for(c_key)),
        std::fs::read(&c_path).unwrap()
    );
}

#[test]
fn wrong_credentials_fail_at_once_without_showing_them() {
    if !have_s3s_fs() {
        return;
    }
    let dir = scratch("deliver-s3-creds");
    let server = S3Server::start(&dir.join("server"));
    let up = Uploader::with_credentials(
        "s3://media",
        Some(&server.endpoint()),
        None,
        None,
        S3Credentials::new(ACCESS_KEY, "not-the-secret", None),
    )
    .unwrap()
    .with_options(test_options());
    let (p, m) = write_file(&dir, "x.flv", b"x");
    let e = format!("{:#}", up.upload(&p, "record/x.flv", m).unwrap_err());
    assert!(
        e.starts_with("uploading record/x.flv to s3://media: HTTP 403"),
        "{e}"
    );
    // Refusals are not retried.
    assert!(!e.contains("attempts"), "{e}");
    assert!(
        !e.contains("not-the-secret") && !e.contains(ACCESS_KEY),
        "{e}"
    );
}

/// A hand-written HTTP/1.1 server: answers the scripted statuses in order, one per
/// connection, then stops. Gives back what it received.
fn listener(listener: TcpListener, statuses: Vec<u16>) -> JoinHandle<Vec<Received>> {
    std::thread::spawn(move || {
        let mut got = Vec::new();
        for status in statuses {
            let Ok((mut conn, _)) = listener.accept() else {
                break;
            };
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let Some(r) = read_request(&mut conn) else {
                continue;
            };
            reply(&mut conn, status);
            got.push(Received { status, ..r });
        }
        got
    })
}

fn poster(port: u16) -> Poster {
    let timeouts = Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
    };
    Poster::new(
        &format!("http://127.0.0.1:{port}/kls/callback"),
        timeouts,
        RetryPolicy::quick(3),
    )
    .unwrap()
}

const CALLBACK: &str = r#"{"status":3,"taskid":"Zx81kQ0aPq7M","itmes":[{"cmd":"","desc":"success","keys":["record/live/cam/hls/cam-1-2.m3u8"],"vdoid":"","code":3}],"mediaSize":1234}"#;

#[test]
fn callback_is_retried_until_accepted_and_sent_once() {
    let root = scratch("deliver-http-retry");
    let lock = OutputLock::acquire(&root, false).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = listener(l, vec![500, 500, 200]);
    let sender = CallbackSender::new(&lock, poster(port)).unwrap();
    assert_eq!(sender.send(CALLBACK).unwrap(), Sent::Delivered);
    let got = server.join().unwrap();
    assert_eq!(got.len(), 3);
    for r in &got {
        assert!(
            r.head.starts_with("POST /kls/callback HTTP/1.1\r\n"),
            "{}",
            r.head
        );
        let ct = r
            .head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))
            .unwrap();
        assert_eq!(ct.split_once(':').unwrap().1.trim(), "application/json");
        assert_eq!(r.body, CALLBACK);
    }
    // Delivered once: the same callback is not sent again, in this run or the next.
    assert_eq!(sender.send(CALLBACK).unwrap(), Sent::AlreadyDelivered);
    drop(sender);
    let rerun = CallbackSender::new(&lock, poster(port)).unwrap();
    assert_eq!(rerun.send(CALLBACK).unwrap(), Sent::AlreadyDelivered);
    assert!(!rerun.spool_path().exists());
}

#[test]
fn undeliverable_callbacks_are_spooled_and_redelivered_in_order() {
    let root = scratch("deliver-http-spool");
    let lock = OutputLock::acquire(&root, false).unwrap();
    let port = free_port();
    let second = CALLBACK.replace("Zx81kQ0aPq7M", "Second000001");

    // Nothing listens: both callbacks are spooled, the second without waiting out retries.
    let sender = CallbackSender::new(&lock, poster(port)).unwrap();
    let started = Instant::now();
    let Sent::Spooled { error } = sender.send(CALLBACK).unwrap() else {
        panic!("expected a spooled callback");
    };
    assert!(
        error.starts_with(&format!(
            "posting the callback to http://127.0.0.1:{port}/kls/callback: connection refused after 3 attempts"
        )),
        "{error}"
    );
    assert!(matches!(
        sender.send(&second).unwrap(),
        Sent::Spooled { .. }
    ));
    // Spooled once even when offered again.
    assert!(matches!(
        sender.send(CALLBACK).unwrap(),
        Sent::Spooled { .. }
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
    let spool = std::fs::read_to_string(sender.spool_path()).unwrap();
    assert_eq!(spool, format!("{CALLBACK}\n{second}\n"));
    drop(sender);

    // Later, a live endpoint: the spool goes first, in order, and ends empty.
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = listener(l, vec![200, 200]);
    let sender = CallbackSender::new(&lock, poster(port)).unwrap();
    let report = sender.redeliver_spool().unwrap();
    assert_eq!(
        (report.delivered, report.still_spooled),
        (2, 0),
        "{report:?}"
    );
    assert!(report.error.is_none());
    let got = server.join().unwrap();
    let bodies: Vec<&str> = got.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies, [CALLBACK, second.as_str()]);
    assert!(!sender.spool_path().exists());
    // The re-run that produced the same files sends nothing again.
    assert_eq!(sender.send(CALLBACK).unwrap(), Sent::AlreadyDelivered);
    assert_eq!(sender.send(&second).unwrap(), Sent::AlreadyDelivered);
}

#[test]
fn a_refused_callback_stays_spooled_without_blocking_the_next() {
    let root = scratch("deliver-http-refused");
    let lock = OutputLock::acquire(&root, false).unwrap();
    let spool = root.join(".kls-rec-callbacks.spool");
    let second = CALLBACK.replace("Zx81kQ0aPq7M", "Second000001");
    std::fs::write(&spool, format!("{CALLBACK}\n{{torn\n{second}\n")).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // 400 is final: no retry; the next spooled callback is still tried.
    let server = listener(l, vec![400, 200]);
    let sender = CallbackSender::new(&lock, poster(port)).unwrap();
    let report = sender.redeliver_spool().unwrap();
    assert_eq!(
        (report.delivered, report.still_spooled, report.invalid),
        (1, 1, 1),
        "{report:?}"
    );
    assert!(report.error.unwrap().ends_with(": HTTP 400: \"ok\""));
    assert_eq!(server.join().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_to_string(&spool).unwrap(),
        format!("{CALLBACK}\n")
    );
}

#[test]
fn a_second_run_is_locked_out_until_the_first_ends() {
    let root = scratch("deliver-lock-e2e");
    let first = OutputLock::acquire(&root, false).unwrap();
    let e = OutputLock::acquire(&root, false).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "in use by another kls-rec run (pid {})",
            std::process::id()
        )),
        "{e}"
    );
    drop(first);
    OutputLock::acquire(&root, false).unwrap();
}

/// A server that accepts connections and never answers, for `secs` seconds.
fn silent_server(secs: u64) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut held = Vec::new();
        while Instant::now() < deadline {
            match l.accept() {
                Ok((c, _)) => held.push(c),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    port
}

#[test]
fn a_hanging_s3_endpoint_times_out() {
    let port = silent_server(10);
    let dir = scratch("deliver-s3-hang");
    let up = uploader(&format!("http://127.0.0.1:{port}"), "s3://media").with_options(S3Options {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy::quick(2),
        ..test_options()
    });
    let (p, m) = write_file(&dir, "x.flv", b"x");
    let started = Instant::now();
    let e = format!("{:#}", up.upload(&p, "record/x.flv", m).unwrap_err());
    assert!(started.elapsed() < Duration::from_secs(5), "{e}");
    assert!(e.contains("timed out"), "{e}");
    assert!(e.contains("after 2 attempts"), "{e}");
}

#[test]
fn a_hanging_callback_endpoint_times_out_into_the_spool() {
    let port = silent_server(10);
    let root = scratch("deliver-http-hang");
    let lock = OutputLock::acquire(&root, false).unwrap();
    let p = Poster::new(
        &format!("http://127.0.0.1:{port}/cb"),
        Timeouts {
            connect: Duration::from_millis(300),
            total: Duration::from_millis(300),
        },
        RetryPolicy::quick(2),
    )
    .unwrap();
    let sender = CallbackSender::new(&lock, p).unwrap();
    let started = Instant::now();
    let Sent::Spooled { error } = sender.send(CALLBACK).unwrap() else {
        panic!("expected a spooled callback");
    };
    assert!(started.elapsed() < Duration::from_secs(5), "{error}");
    assert!(error.contains("timed out"), "{error}");
    assert_eq!(
        std::fs::read_to_string(sender.spool_path()).unwrap(),
        format!("{CALLBACK}\n")
    );
}
