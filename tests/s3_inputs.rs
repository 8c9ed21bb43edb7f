//! `record`, `inspect` and `splice` read `s3://` inputs from S3-compatible storage: one object,
//! or a prefix listed; with read access only, and with settings from an AWS profile.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY, have_s3s_fs};
use kls_rec::testutil::{recording_files, scratch, testdata, tree};
use serde_json::Value;

fn record(endpoint: Option<&str>, out: &Path, inputs: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
    c.args(["record", "--formats", "hls,mp4,flv", "-o"])
        .arg(out);
    if let Some(e) = endpoint {
        c.args(["--endpoint", e]);
    }
    let out = c
        .args(inputs)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{inputs:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn s3_inputs_record_like_local_files() {
    if !have_s3s_fs() {
        return;
    }
    let work = scratch("s3-inputs");
    let server = S3Server::start(&work.join("s3"));
    // Objects: FLVs (streamed) and an MP4 recording (downloaded first), under a prefix.
    let objects = work.join("s3").join(BUCKET).join("backfill");
    std::fs::create_dir_all(&objects).unwrap();
    let files = [
        (testdata("push/show-1764075600.flv"), "show-1764075600.flv"),
        (testdata("push/show-1764075670.flv"), "show-1764075670.flv"),
        (testdata("push/show-1764075980.flv"), "show-1764075980.flv"),
        // A time in the name: the wall clock must not come from a file's mtime.
        (testdata("hevc/source.mp4"), "hevc-1764072000.mp4"),
    ];
    let local_dir = work.join("local");
    std::fs::create_dir_all(&local_dir).unwrap();
    let mut local = Vec::new();
    for (f, name) in &files {
        std::fs::copy(f, objects.join(name)).unwrap();
        std::fs::copy(f, local_dir.join(name)).unwrap();
        local.push(local_dir.join(name));
    }
    let endpoint = server.endpoint();

    let (a, b) = (work.join("from-local"), work.join("from-s3"));
    let local_args: Vec<&str> = local.iter().map(|p| p.to_str().unwrap()).collect();
    let x = record(None, &a, &local_args);
    let y = record(Some(&endpoint), &b, &[&format!("s3://{BUCKET}/backfill/")]);
    assert!(
        tree(&a) == tree(&b),
        "a listed prefix records like the local files"
    );
    assert_eq!(x.stdout, y.stdout, "with the same callbacks");
    assert!(
        !b.join(".kls-rec-inputs").exists(),
        "downloads are removed after the run"
    );

    // One object by its key.
    let c = work.join("one");
    record(
        Some(&endpoint),
        &c,
        &[&format!("s3://{BUCKET}/backfill/show-1764075980.flv")],
    );
    let names: Vec<String> = recording_files(&c)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "flv"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["show-1764075980-1764075990.flv"]);
}

/// A proxy in front of the S3 server that lets only reads through (GET, HEAD) and answers
/// anything else 403 AccessDenied, as a read-only key's policy would: s3s-fs knows one key
/// only, with every permission. Records every request line.
struct ReadOnlyProxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ReadOnlyProxy {
    fn start(upstream: u16) -> ReadOnlyProxy {
        let (port, requests) = common::spawn_proxy(upstream, relay_reads);
        ReadOnlyProxy { port, requests }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn methods(&self) -> Vec<String> {
        let lines = self.requests.lock().unwrap().clone();
        lines
            .iter()
            .map(|l| l.split(' ').next().unwrap_or_default().to_string())
            .collect()
    }
}

fn relay_reads(mut client: TcpStream, upstream: u16, log: &Mutex<Vec<String>>) {
    let Some((first, line)) = common::first_request(&mut client) else {
        return;
    };
    log.lock().unwrap().push(line.clone());
    if !(line.starts_with("GET ") || line.starts_with("HEAD ")) {
        let body = "<Error><Code>AccessDenied</Code><Message>read-only key</Message></Error>";
        let _ = write!(
            client,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    common::forward(client, upstream, &first);
}

/// The S3 server with the three `show` pushes and an MP4 under `media/backfill/`.
fn server_with_pushes(work: &Path) -> S3Server {
    let server = S3Server::start(&work.join("s3"));
    let objects = work.join("s3").join(BUCKET).join("backfill");
    std::fs::create_dir_all(&objects).unwrap();
    for t in ["1764075600", "1764075670", "1764075980"] {
        let name = format!("show-{t}.flv");
        std::fs::copy(testdata(&format!("push/{name}")), objects.join(name)).unwrap();
    }
    server
}

/// `kls-rec ARGS…` with the test key in the environment and nothing else of AWS.
fn kls_rec_with_keys(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
    clean_env(&mut c);
    let out = c
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .args(args)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "kls-rec panicked"
    );
    out
}

/// No `KLS_REC_*` or `AWS_*` setting of the caller's reaches kls-rec.
fn clean_env(c: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("KLS_REC_") || k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn inspect_and_splice_read_s3_with_read_only_access() {
    if !have_s3s_fs() {
        return;
    }
    let work = scratch("s3-read-only");
    let server = server_with_pushes(&work);
    let proxy = ReadOnlyProxy::start(server.port);
    let ro = proxy.endpoint();
    let prefix = format!("s3://{BUCKET}/backfill/");
    let local: Vec<String> = ["1764075600", "1764075670", "1764075980"]
        .iter()
        .map(|t| {
            testdata(&format!("push/show-{t}.flv"))
                .display()
                .to_string()
        })
        .collect();

    // inspect: a prefix reads as its objects, each under its s3:// name, with what the local
    // copies show.
    let from_s3 = ok(
        &kls_rec_with_keys(&["inspect", "--json", "--endpoint", &ro, &prefix]),
        "inspect s3://",
    );
    let mut args = vec!["inspect", "--json"];
    args.extend(local.iter().map(String::as_str));
    let from_local = ok(&kls_rec_with_keys(&args), "inspect local");
    let s3_lines: Vec<Value> = from_s3
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let local_lines: Vec<Value> = from_local
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(s3_lines.len(), 3, "{from_s3}");
    for (s, l) in s3_lines.iter().zip(&local_lines) {
        let name = s["format"]["filename"].as_str().unwrap().to_string();
        assert!(name.starts_with(&prefix), "{name}");
        let mut s = s.clone();
        s["format"]["filename"] = l["format"]["filename"].clone();
        assert_eq!(&s, l, "{name} inspects like its local copy");
    }
    let one = format!("{prefix}show-1764075980.flv");
    let text = ok(
        &kls_rec_with_keys(&["inspect", "--endpoint", &ro, &one]),
        "inspect one object",
    );
    assert!(text.contains(&one), "{text}");
    let rules = ok(
        &kls_rec_with_keys(&["inspect", "--rules", "--endpoint", &ro, &prefix]),
        "inspect --rules s3://",
    );
    let mut args = vec!["inspect", "--rules"];
    args.extend(local.iter().map(String::as_str));
    assert_eq!(
        rules,
        ok(&kls_rec_with_keys(&args), "inspect --rules local")
    );

    // splice: the pushes of the prefix joined as the local files are.
    let (a, b) = (work.join("spliced-local"), work.join("spliced-s3"));
    let mut args = vec!["splice", "-o", a.to_str().unwrap()];
    args.extend(local.iter().map(String::as_str));
    let x = ok(&kls_rec_with_keys(&args), "splice local");
    let b_str = b.to_str().unwrap();
    let y = ok(
        &kls_rec_with_keys(&["splice", "-o", b_str, "--endpoint", &ro, &prefix]),
        "splice s3://",
    );
    assert_eq!(x, y, "the same callback");
    assert!(tree(&a) == tree(&b), "the same joined file");
    assert!(!b.join(".kls-rec-inputs").exists());

    let methods = proxy.methods();
    assert!(!methods.is_empty());
    assert!(
        methods.iter().all(|m| m == "GET" || m == "HEAD"),
        "reading asks only to read: {methods:?}"
    );
    // And a write through the same access is refused, so the check above means something.
    let refused = kls_rec_with_keys(&[
        "record",
        "--quiet",
        "-o",
        work.join("upload").to_str().unwrap(),
        "--upload",
        &format!("s3://{BUCKET}/up"),
        "--endpoint",
        &ro,
        &local[2],
    ]);
    assert_eq!(
        refused.status.code(),
        Some(4),
        "an upload through a read-only key fails"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("AccessDenied"));
}

#[test]
fn credentials_and_endpoint_from_an_aws_profile() {
    if !have_s3s_fs() {
        return;
    }
    let work = scratch("s3-profile");
    let server = server_with_pushes(&work);
    // No key in the environment: a profile in ~/.aws under a HOME of the test's.
    let home = work.join("home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        format!(
            "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n\
             [backfill]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile backfill]\nregion = us-east-1\nendpoint_url = {}\n",
            server.endpoint()
        ),
    )
    .unwrap();
    let run = |profile: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
        clean_env(&mut c);
        c.env("HOME", &home)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if let Some(p) = profile {
            c.env("AWS_PROFILE", p);
        }
        c.args(args).output().unwrap()
    };
    let object = format!("s3://{BUCKET}/backfill/show-1764075980.flv");
    let text = ok(
        &run(Some("backfill"), &["inspect", &object]),
        "inspect via AWS_PROFILE",
    );
    assert!(text.contains(&object), "{text}");

    // Uploads read the same profile.
    let out = work.join("out");
    let up = run(
        Some("backfill"),
        &[
            "record",
            "--quiet",
            "--formats",
            "flv",
            "-o",
            out.to_str().unwrap(),
            "--upload",
            &format!("s3://{BUCKET}/uploaded"),
            &object,
        ],
    );
    ok(&up, "record --upload via AWS_PROFILE");
    let key = "uploaded/record/live/show/flv/show-1764075980-1764075990.flv";
    assert!(
        server.root.join(BUCKET).join(key).exists(),
        "{key} uploaded"
    );

    // The default profile's keys are wrong: the server refuses them, and says so without them.
    let wrong = run(
        None,
        &["inspect", "--endpoint", &server.endpoint(), &object],
    );
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains(&object), "{stderr}");
    // A profile that does not exist is named.
    let missing = run(Some("nope"), &["inspect", &object]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("AWS_PROFILE nope: no such profile"),
        "{stderr}"
    );
}
