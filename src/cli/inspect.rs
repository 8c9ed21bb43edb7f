//! `kls-rec inspect`: what is inside each input ([`crate::inspect`]), as a report or as
//! ffprobe-shaped JSON Lines; with `--rules`, the decisions `record` would take.
//!
//! `--rules` is `record --dry-run --explain` with the same settings, run by the same pipeline
//! ([`crate::record::run`] through [`super::finish_run`]): the plan (one line per file) on
//! stdout, the decision log on stderr, byte for byte what `record --dry-run --explain` prints.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::{CommonArgs, DecisionArgs, EXIT_DAMAGED, EXIT_FAILURE, EXIT_OK, RunArgs, S3Args};
use crate::record::RecordOptions;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// Inputs: FLV, MP4, TS, HLS, RTMP dumps, pcap, logs, directories, s3:// URLs, - (stdin)
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<String>,

    /// Print ffprobe-shaped JSON, one object per input per line (with --rules: the run summary)
    #[arg(long)]
    pub(crate) json: bool,

    /// Print the decisions `record` would take (as record --dry-run --explain)
    #[arg(long)]
    pub(crate) rules: bool,

    /// With --rules: the settings `record` would use
    #[command(flatten)]
    pub(crate) decide: DecisionArgs,

    #[command(flatten)]
    pub(crate) s3: S3Args,

    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// Where `s3://` inputs are downloaded for the run (removed after it): inspect has no output
/// root.
fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("kls-rec-inspect-{}", std::process::id()))
}

pub(crate) fn run(args: InspectArgs) -> Result<i32> {
    if args.rules {
        return run_rules(args);
    }
    let scratch = scratch();
    let mut opts = args.decide.input_options();
    opts.s3 = Some(args.s3.open(scratch.clone()));
    let result = report(&args, &opts);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// The report (or JSON) of every input; the exit status.
fn report(args: &InspectArgs, opts: &crate::input::InputOptions) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    let mut code = EXIT_OK;
    for file in &expand_directories(&args.files)? {
        for found in crate::inspect::inspect_input(file, opts) {
            let ins = match found {
                Ok(i) => i,
                Err(e) => {
                    super::style::error(&e.to_string());
                    code = EXIT_FAILURE;
                    continue;
                }
            };
            let probe = crate::inspect::probe(&ins);
            if args.json {
                writeln!(out, "{}", serde_json::to_string(&probe)?)?;
            } else {
                write!(out, "{}", crate::inspect::text::render(&ins, &probe))?;
            }
            if ins.damage_count() > 0 && code == EXIT_OK {
                code = EXIT_DAMAGED;
            }
        }
    }
    out.flush()?;
    Ok(code)
}

/// The inputs with each local directory replaced by the files under it, as record reads them.
fn expand_directories(inputs: &[String]) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for input in inputs {
        if std::path::Path::new(input).is_dir() {
            let listed = crate::input::dir::list(std::path::Path::new(input))?;
            files.extend(listed.iter().map(|p| p.display().to_string()));
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// `record --dry-run --explain` with these settings.
fn run_rules(args: InspectArgs) -> Result<i32> {
    let run = RunArgs {
        json: args.json,
        wait: false,
    };
    let timeline = args.decide.timeline.clone();
    let opts = RecordOptions {
        dry_run: true,
        explain: true,
        ..args.decide.record_options()
    };
    let mut input_opts = args.decide.input_options();
    let scratch = scratch();
    input_opts.s3 = Some(args.s3.open(scratch.clone()));
    super::run_and_draw(
        (&args.files, &input_opts, &opts),
        (&args.common, &run),
        None,
        timeline.as_deref(),
        &scratch,
    )
}
