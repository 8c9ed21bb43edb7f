//! `kls-rec inspect`: what is inside each input ([`crate::inspect`]), as a report or as
//! ffprobe-shaped JSON Lines; with `--rules`, the decisions `record` would take.
//!
//! `--rules` is `record --dry-run --explain` with the same settings, run by the same pipeline
//! ([`crate::record::run`] through [`super::finish_run`]): the plan (one line per file) on
//! stdout, the decision log on stderr, byte for byte what `record --dry-run --explain` prints.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::{CommonArgs, EXIT_DAMAGED, EXIT_FAILURE, EXIT_OK, RecordArgs};
use crate::input::InputOptions;
use crate::mux::Format;

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Inputs: FLV, MP4, MPEG-TS, HLS playlists, RTMP dumps, segment logs, or - for stdin
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,

    /// Print ffprobe-shaped JSON, one object per input per line (with --rules: the run summary)
    #[arg(long)]
    pub json: bool,

    /// Print the decisions `record` would take (as record --dry-run --explain)
    #[arg(long)]
    pub rules: bool,

    /// With --rules: output formats, comma-separated: hls, mp4, flv
    #[arg(
        env = "KLS_REC_FORMATS",
        long,
        value_name = "LIST",
        default_value = "hls",
        value_delimiter = ','
    )]
    pub formats: Vec<Format>,

    /// App name for inputs that do not carry one [default: live]
    #[arg(env = "KLS_REC_APP", long)]
    pub app: Option<String>,

    /// Stream name for inputs that do not carry one [default: the file stem]
    #[arg(env = "KLS_REC_STREAM", long)]
    pub stream: Option<String>,

    /// vdoid for inputs that do not carry one
    #[arg(env = "KLS_REC_VDOID", long)]
    pub vdoid: Option<String>,

    /// Wall clock of the first packet: Unix seconds, Unix ms, or RFC 3339
    #[arg(env = "KLS_REC_START_TIME", long, value_name = "TIME", value_parser = crate::wallclock::parse_time_ms)]
    pub start_time: Option<i64>,

    /// With --rules: slice length
    #[arg(env = "KLS_REC_SLICE", long, value_name = "DURATION", default_value = "6h", value_parser = super::parse_duration_ms)]
    pub slice: i64,

    /// With --rules: recording period, consulted when a push resumes [default: none]
    #[arg(env = "KLS_REC_PERIOD", long, value_name = "DURATION", value_parser = super::parse_duration_ms)]
    pub period: Option<i64>,

    /// With --rules: resumes within this gap are appended (0: never)
    #[arg(env = "KLS_REC_SPLICE_WINDOW", long, value_name = "DURATION", default_value = "3m", value_parser = super::parse_duration_ms)]
    pub splice_window: i64,

    /// With --rules: draw pushes, gaps and files with their reasons: FILE.svg or FILE.html
    #[arg(env = "KLS_REC_TIMELINE", long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,

    /// Read settings from a TOML file (the flags' names; flags and env win)
    #[arg(long, env = "KLS_REC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// No progress bars
    #[arg(short, long, env = "KLS_REC_QUIET")]
    pub quiet: bool,
}

pub fn run(args: InspectArgs) -> Result<i32> {
    if args.rules {
        return run_rules(args);
    }
    let opts = InputOptions {
        app: args.app,
        stream: args.stream,
        vdoid: args.vdoid,
        start_time_ms: args.start_time,
    };
    let mut out = std::io::stdout().lock();
    let mut code = EXIT_OK;
    for file in &args.files {
        let ins = match crate::inspect::inspect(file, &opts) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: {e}");
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
    out.flush()?;
    Ok(code)
}

/// `record --dry-run --explain` with these settings.
fn run_rules(args: InspectArgs) -> Result<i32> {
    let common = CommonArgs {
        config: args.config.clone(),
        quiet: args.quiet,
        json: args.json,
    };
    let timeline = args.timeline.clone();
    let record = RecordArgs {
        inputs: args.files,
        out_dir: PathBuf::from("."),
        formats: args.formats,
        app: args.app,
        stream: args.stream,
        vdoid: args.vdoid,
        start_time: args.start_time,
        slice: args.slice,
        period: args.period,
        splice_window: args.splice_window,
        hls_segment: 10_000,
        dry_run: true,
        explain: true,
        timeline: None,
        callback_times: false,
        callback: None,
        upload: None,
        endpoint: None,
        region: None,
        path_style: false,
        multipart_threshold: 64 << 20,
        delete_after_upload: false,
        jobs: None,
        shard: None,
        common: CommonArgs {
            config: None,
            quiet: args.quiet,
            json: args.json,
        },
    };
    let (inputs, input_opts, opts) = super::record_settings(record)?;
    let (code, summary) = super::finish_run(&inputs, &input_opts, &opts, &common, None)?;
    if let Some(path) = &timeline {
        crate::timeline::write(path, &summary.streams)
            .with_context(|| format!("writing the timeline {}", path.display()))?;
    }
    Ok(code)
}
