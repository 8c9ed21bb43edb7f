//! The committed JSON Schemas (`schema/`) describe what kls-rec prints: every callback (HLS,
//! avtrans; success and failure; with and without `--callback-times`) and every `--json`
//! summary (`record`, a dry run, `inspect --rules`, `splice`) of runs over the fixtures
//! validates, with content assertions on (`outMediainfo` must be a JSON text), and the schemas
//! are strict (`additionalProperties: false`): a field added to the output without the schema
//! fails here.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use boon::{Compiler, SchemaIndex, Schemas};
use kls_rec::testutil::{scratch, testdata};
use serde_json::Value;

struct Checker {
    schemas: Schemas,
    hls: SchemaIndex,
    avtrans: SchemaIndex,
    summary: SchemaIndex,
}

impl Checker {
    fn new() -> Checker {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
        let mut schemas = Schemas::new();
        let mut compiler = Compiler::new();
        compiler.enable_content_assertions();
        let mut compile = |name: &str| {
            let path = dir.join(name).display().to_string();
            compiler
                .compile(&path, &mut schemas)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"))
        };
        let (hls, avtrans, summary) = (
            compile("callback-hls.json"),
            compile("callback-avtrans.json"),
            compile("summary.json"),
        );
        Checker {
            schemas,
            hls,
            avtrans,
            summary,
        }
    }

    /// Validates one stdout line by its kind; returns the kind.
    fn check_line(&self, line: &str) -> &'static str {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let (kind, index) = if v.get("summary").is_some() {
            ("summary", self.summary)
        } else if v.get("type").is_some() {
            ("avtrans", self.avtrans)
        } else {
            ("hls", self.hls)
        };
        if let Err(e) = self.schemas.validate(&v, index) {
            panic!("{kind} does not match its schema: {e:#}\n{line}");
        }
        kind
    }

    /// Validates every line of a run's stdout; returns the kinds seen, in order.
    fn check_output(&self, stdout: &str) -> Vec<&'static str> {
        stdout.lines().map(|l| self.check_line(l)).collect()
    }
}

fn kls_rec(args: &[&str], inputs: &[PathBuf]) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KLS_REC_") {
            c.env_remove(k);
        }
    }
    let out = c
        .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", common::SECRET_KEY)
        .env("KLS_REC_RETRY_ATTEMPTS", "1")
        .env("KLS_REC_RETRY_MAX_MS", "10")
        .args(args)
        .args(inputs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Every committed recording input: pushes of each codec, an MP4, a capture, an RTMP dump.
fn inputs() -> Vec<PathBuf> {
    let mut v = common::run::fixtures();
    for name in [
        "mp3-1764072000.flv",
        "radio-1764072000.flv",
        "reschange-1764072000.flv",
        "silent-1764072000.flv",
        "hevc/cdn-1764072000.flv",
        "hevc/ertmp-1764072000.flv",
        "hevc/source.mp4",
        "capture/cam.pcap",
        "rtmp/show-1764075600.rtmp",
    ] {
        v.push(testdata(name));
    }
    v
}

fn count(kinds: &[&str], kind: &str) -> usize {
    kinds.iter().filter(|k| **k == kind).count()
}

#[test]
fn callbacks_and_summaries_of_the_fixtures_match_the_schemas() {
    let checker = Checker::new();
    let work = scratch("schemas");
    let all = inputs();
    let out = work.join("out");
    let o = out.to_str().unwrap();

    let (code, stdout) = kls_rec(
        &[
            "record",
            "-q",
            "--formats",
            "hls,mp4,flv",
            "--json",
            "-o",
            o,
        ],
        &all,
    );
    assert!([0, 3].contains(&code), "exit {code}");
    let kinds = checker.check_output(&stdout);
    assert!(
        count(&kinds, "hls") > 5 && count(&kinds, "avtrans") > 10,
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"summary"));

    // With the times in HLS callbacks; files already there (written: false).
    let (_, stdout) = kls_rec(
        &[
            "record",
            "-q",
            "--formats",
            "hls",
            "--callback-times",
            "--json",
            "-o",
            o,
        ],
        &all,
    );
    let kinds = checker.check_output(&stdout);
    assert!(stdout.contains("\"starttime\"") && count(&kinds, "hls") > 5);
    assert!(stdout.contains("\"written\":false"));

    // A dry run's summary has no bytes; inspect --rules prints the same summary.
    let (_, stdout) = kls_rec(&["record", "--dry-run", "--json", "-o", o], &all);
    let last = stdout.lines().last().unwrap();
    assert_eq!(checker.check_line(last), "summary");
    assert!(!last.contains("\"md5\""));
    let (_, stdout) = kls_rec(&["inspect", "--rules", "--json"], &all);
    assert_eq!(
        checker.check_line(stdout.lines().last().unwrap()),
        "summary"
    );

    // splice prints a summary too.
    let slices = [
        testdata("push/show-1764075600.flv"),
        testdata("push/show-1764075670.flv"),
    ];
    let spliced = work.join("spliced");
    let (code, stdout) = kls_rec(
        &["splice", "-q", "--json", "-o", spliced.to_str().unwrap()],
        &slices,
    );
    assert_eq!(code, 0);
    assert_eq!(checker.check_output(&stdout), ["avtrans", "summary"]);

    // Failures: an upload that gives up makes status-4 callbacks and exit status 4.
    let failed = work.join("failed");
    let dead = format!("http://127.0.0.1:{}", common::free_port());
    let (code, stdout) = kls_rec(
        &[
            "record",
            "-q",
            "--formats",
            "hls,mp4",
            "--json",
            "--upload",
            "s3://media/x",
            "--endpoint",
            &dead,
            "-o",
            failed.to_str().unwrap(),
        ],
        &slices,
    );
    assert_eq!(code, 4);
    let kinds = checker.check_output(&stdout);
    assert!(
        stdout.contains("\"status\":4") && stdout.contains("\"errnum\":1"),
        "{stdout}"
    );
    assert!(count(&kinds, "hls") > 0 && count(&kinds, "avtrans") > 0);
}

#[test]
fn the_schemas_are_strict() {
    let checker = Checker::new();
    let hls = r#"{"status":3,"taskid":"0123456789ab","itmes":[{"cmd":"","desc":"success","keys":["record/x.m3u8"],"vdoid":"","code":3}],"mediaSize":1}"#;
    assert_eq!(checker.check_line(hls), "hls");
    let bad = [
        hls.replace("\"mediaSize\":1", "\"mediaSize\":1,\"extra\":0"),
        hls.replace("\"status\":3", "\"status\":5"),
        hls.replace(",\"mediaSize\":1", ""),
        hls.replace("\"mediaSize\":1", "\"mediaSize\":1,\"starttime\":\"1\""),
    ];
    for b in &bad {
        let v: Value = serde_json::from_str(b).unwrap();
        assert!(checker.schemas.validate(&v, checker.hls).is_err(), "{b}");
    }
    let not_json = r#"{"taskid":"0123456789ab","status":3,"type":"avtrans","details":{"errnum":0,"errmsg":"","bucket":"","starttime":"1","endtime":"2","stream":"s","throughParams":"","items":[{"dstpath":"record/x.flv","ETag":"00000000000000000000000000000000","outMediainfo":"{not json"}]},"itmes":[{"cmd":"tag=avtrans&tag=saveas&bucket=&object=eA==","desc":"success","keys":["record/x.flv"],"code":3}]}"#;
    let v: Value = serde_json::from_str(not_json).unwrap();
    assert!(checker.schemas.validate(&v, checker.avtrans).is_err());
    let fixed: Value = serde_json::from_str(&not_json.replace("{not json", "{}")).unwrap();
    assert!(checker.schemas.validate(&fixed, checker.avtrans).is_ok());
}
