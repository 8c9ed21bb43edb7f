//! `kls-rec splice`: recordings of one stream joined into one file, like the reference's
//! CreateTask. The recording pipeline does the work with rules that never cut (no slice, no
//! period, an unbounded splice window) and a strict codec check: files whose configurations
//! differ are refused, naming the fields, since joining them would need re-encoding. The joined
//! file is named from the earliest start to the latest end the inputs' own names state.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, bail};
use clap::Args;

use super::{CommonArgs, OutputArgs, RunArgs, S3Args, finish_run};
use crate::format::Format;
use crate::input::{self, InputOptions};
use crate::mux::MuxOptions;
use crate::record::RecordOptions;
use crate::rules;
use crate::sink::naming;

#[derive(Args, Debug)]
pub(crate) struct SpliceArgs {
    /// Recordings of one stream: FLV, MP4 files or HLS playlists, local or s3://
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<String>,

    /// Output format: mp4, flv or hls
    #[arg(
        env = "KLS_REC_FORMAT",
        long,
        value_name = "FORMAT",
        default_value = "mp4"
    )]
    pub(crate) format: Format,

    #[command(flatten)]
    pub(crate) output: OutputArgs,

    /// App name of the result [default: live]
    #[arg(env = "KLS_REC_APP", long)]
    pub(crate) app: Option<String>,

    /// Stream name of the result [default: from the file names]
    #[arg(env = "KLS_REC_STREAM", long)]
    pub(crate) stream: Option<String>,

    /// Join in the order given, not by the start times in the names
    #[arg(long)]
    pub(crate) in_order: bool,

    #[command(flatten)]
    pub(crate) run: RunArgs,

    #[command(flatten)]
    pub(crate) s3: S3Args,

    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

pub(crate) fn run(args: SpliceArgs) -> Result<i32> {
    // s3:// inputs that must be downloaded are kept in the output root for the run.
    let scratch = args.output.out_dir.join(super::INPUTS_SCRATCH);
    let input_opts = InputOptions {
        app: args.app.clone(),
        stream: args.stream.clone(),
        s3: Some(args.s3.open(scratch.clone())),
        ..InputOptions::default()
    };
    let result = join(args, &input_opts);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Checks that the files are of one stream, then joins them.
fn join(args: SpliceArgs, input_opts: &InputOptions) -> Result<i32> {
    // One stream only: refuse before anything is written.
    let mut keys = BTreeSet::new();
    for f in &args.files {
        for s in input::open(f, input_opts)? {
            if !s.has_media {
                bail!("{}: no media to join", s.info.input);
            }
            keys.insert(format!("{}/{}", s.info.key.app, s.info.key.stream));
        }
    }
    if keys.len() > 1 {
        let list: Vec<String> = keys.into_iter().collect();
        bail!(
            "the files belong to different streams ({}); name the result with --stream",
            list.join(", ")
        );
    }
    let opts = RecordOptions {
        out_dir: args.output.out_dir,
        formats: vec![args.format],
        rules: rules::Settings {
            slice_ms: i64::MAX,
            period_ms: None,
            splice_window_ms: i64::MAX,
        },
        mux: MuxOptions {
            hls_segment_90k: args.output.hls_segment * 90,
            hls_segments: args.output.hls_segments,
        },
        callback_times: args.output.callback_times,
        keep_order: args.in_order,
        strict_config: true,
        name_end_ms: args
            .files
            .iter()
            .filter_map(|f| naming::end_time_ms(Path::new(f)))
            .max(),
        ..RecordOptions::default()
    };
    finish_run(
        &args.files,
        input_opts,
        &opts,
        (&args.common, &args.run),
        None,
        false,
    )
    .map(|(code, _)| code)
}
