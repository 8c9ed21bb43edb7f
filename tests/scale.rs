//! Streams in parallel and sharded: outputs never depend on how the work was split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kls_rec::testutil::{scratch, testdata, tree};

/// Every committed FLV fixture: eight stream keys.
fn inputs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [
        "studio-1764072000.flv",
        "radio-1764072000.flv",
        "silent-1764072000.flv",
        "reschange-1764072000.flv",
        "mp3-1764072000.flv",
        "push/show-1764075600.flv",
        "push/show-1764075670.flv",
        "push/show-1764075980.flv",
        "hevc/cdn-1764072000.flv",
        "hevc/ertmp-1764072000.flv",
    ]
    .iter()
    .map(|n| testdata(n))
    .collect();
    v.sort();
    v
}

fn run(dir: &Path, extra: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_kls-rec"))
        .args(["record", "--formats", "hls,mp4,flv", "-o"])
        .arg(dir)
        .args(inputs())
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Relative path → bytes of every file under `dir`.

#[test]
fn jobs_and_shards_give_the_same_files() {
    let one = scratch("scale-jobs1");
    let stdout_one = run(&one, &["--jobs", "1"]);
    let reference = tree(&one);
    assert!(reference.len() > 30, "{} files", reference.len());

    let two = scratch("scale-jobs2");
    let stdout_two = run(&two, &["--jobs", "2"]);
    assert!(
        tree(&two) == reference,
        "--jobs 2 writes what --jobs 1 writes"
    );
    assert_eq!(
        stdout_two, stdout_one,
        "and prints the same callbacks in the same order"
    );

    let mut union = BTreeMap::new();
    let mut nonempty = 0;
    for k in 0..3 {
        let dir = scratch(&format!("scale-shard{k}"));
        run(&dir, &["--shard", &format!("{k}/3")]);
        let part = tree(&dir);
        nonempty += usize::from(!part.is_empty());
        for (path, bytes) in part {
            assert!(union.insert(path, bytes).is_none(), "a file in two shards");
        }
    }
    assert!(
        nonempty >= 2,
        "the hash spreads eight streams over the shards"
    );
    assert!(union == reference, "the union of the shards is one run");
}
