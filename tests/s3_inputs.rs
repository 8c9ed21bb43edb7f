//! `record` reads `s3://` inputs from S3-compatible storage: one object, or a prefix listed.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY, have_s3s_fs};
use kls_rec::testutil::{recording_files, scratch, testdata, tree};

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
