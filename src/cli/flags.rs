//! Every flag of the command line, defined once: each command flattens the groups it takes
//! (`record` all of them; `splice` the output, S3, common and run groups; `inspect --rules` the
//! decision, S3, common and run groups).

use std::path::PathBuf;

use clap::Args;

use super::style;
use super::values::*;
use crate::format::Format;
use crate::input::InputOptions;
use crate::record::{RecordOptions, Shard};
use crate::rules;

#[derive(Args, Debug)]
pub(crate) struct RecordArgs {
    /// Inputs: FLV, MP4, TS, HLS, RTMP dumps, pcap, logs, directories, s3:// URLs, - (stdin)
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<String>,

    #[command(flatten)]
    pub(crate) output: OutputArgs,

    #[command(flatten)]
    pub(crate) decide: DecisionArgs,

    /// Decide and print the files, write nothing
    #[arg(help_heading = "Run", env = "KLS_REC_DRY_RUN", long)]
    pub(crate) dry_run: bool,

    /// Print every decision with its reason on stderr
    #[arg(help_heading = "Run", env = "KLS_REC_EXPLAIN", long)]
    pub(crate) explain: bool,

    /// POST each callback here (retried; undelivered ones spooled for the next run)
    #[arg(help_heading = "Delivery", env = "KLS_REC_CALLBACK", long, value_name = "URL", value_parser = parse_http_url)]
    pub(crate) callback: Option<String>,

    /// Upload files to S3-compatible storage (credentials: AWS_* env, ~/.aws profile, roles)
    #[arg(help_heading = "Delivery", env = "KLS_REC_UPLOAD", long, value_name = "s3://BUCKET[/PREFIX]", value_parser = parse_upload_target)]
    pub(crate) upload: Option<String>,

    #[command(flatten)]
    pub(crate) s3: S3Args,

    /// Upload files larger than this in parts, e.g. 64MiB
    #[arg(help_heading = "Delivery", env = "KLS_REC_MULTIPART_THRESHOLD", long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub(crate) multipart_threshold: u64,

    /// Remove local files once uploaded
    #[arg(
        help_heading = "Delivery",
        env = "KLS_REC_DELETE_AFTER_UPLOAD",
        long,
        requires = "upload"
    )]
    pub(crate) delete_after_upload: bool,

    /// Streams recorded at once [default: the number of cores]
    #[arg(
        help_heading = "Run",
        env = "KLS_REC_JOBS",
        short = 'j',
        long,
        value_name = "N"
    )]
    pub(crate) jobs: Option<usize>,

    /// Only this share of the streams: K of N (0-based), by a stable hash
    #[arg(help_heading = "Run", env = "KLS_REC_SHARD", long, value_name = "K/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,

    #[command(flatten)]
    pub(crate) run: RunArgs,

    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// The settings that decide which files a run makes: `record` and `inspect --rules` share
/// them, so both read the same flags, environment and config names.
#[derive(Args, Debug, Clone)]
pub(crate) struct DecisionArgs {
    /// Output formats, comma-separated: hls, mp4, flv
    #[arg(
        help_heading = "Rules",
        env = "KLS_REC_FORMATS",
        long,
        value_name = "LIST",
        default_value = "hls",
        value_delimiter = ','
    )]
    pub(crate) formats: Vec<Format>,

    /// App name for inputs that do not carry one [default: live]
    #[arg(help_heading = "Rules", env = "KLS_REC_APP", long)]
    pub(crate) app: Option<String>,

    /// Stream name for inputs that do not carry one [default: the file stem]
    #[arg(help_heading = "Rules", env = "KLS_REC_STREAM", long)]
    pub(crate) stream: Option<String>,

    /// vdoid for inputs that do not carry one
    #[arg(help_heading = "Rules", env = "KLS_REC_VDOID", long)]
    pub(crate) vdoid: Option<String>,

    /// Wall clock of the first packet: Unix seconds, Unix ms, or RFC 3339
    #[arg(help_heading = "Rules", env = "KLS_REC_START_TIME", long, value_name = "TIME", value_parser = crate::wallclock::parse_time_ms)]
    pub(crate) start_time: Option<i64>,

    /// Slice length: a file is cut at the next keyframe after it
    #[arg(help_heading = "Rules", env = "KLS_REC_SLICE", long, value_name = "DURATION", default_value = "6h", value_parser = parse_positive_duration_ms)]
    pub(crate) slice: i64,

    /// Recording period, consulted when a push resumes [default: none]
    #[arg(help_heading = "Rules", env = "KLS_REC_PERIOD", long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub(crate) period: Option<i64>,

    /// Resumes within this gap are appended to the held file (0: never)
    #[arg(help_heading = "Rules", env = "KLS_REC_SPLICE_WINDOW", long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration_ms)]
    pub(crate) splice_window: i64,

    /// Draw pushes, gaps and files with their reasons: FILE.svg or FILE.html
    #[arg(help_heading = "Rules", env = "KLS_REC_TIMELINE", long, value_name = "FILE", value_parser = parse_timeline_path)]
    pub(crate) timeline: Option<PathBuf>,
}

impl DecisionArgs {
    /// What inputs need from the flags.
    pub(crate) fn input_options(&self) -> InputOptions {
        InputOptions {
            app: self.app.clone(),
            stream: self.stream.clone(),
            vdoid: self.vdoid.clone(),
            start_time_ms: self.start_time,
            s3: None,
        }
    }

    /// The rules and formats (checked as they were parsed); everything else at its default.
    pub(crate) fn record_options(&self) -> RecordOptions {
        let mut formats = self.formats.clone();
        formats.sort();
        formats.dedup();
        RecordOptions {
            formats,
            rules: rules::Settings {
                slice_ms: self.slice,
                period_ms: self.period.filter(|&p| p > 0),
                splice_window_ms: self.splice_window,
            },
            ..RecordOptions::default()
        }
    }
}

/// Where and how the files are written: `record` and `splice` share them.
#[derive(Args, Debug, Clone)]
pub(crate) struct OutputArgs {
    /// Output root; files go under record/{App}/{StreamName}/{format}/
    #[arg(
        help_heading = "Output",
        env = "KLS_REC_OUT_DIR",
        short = 'o',
        long,
        value_name = "DIR",
        default_value = "."
    )]
    pub(crate) out_dir: PathBuf,

    /// HLS target segment length
    #[arg(help_heading = "Output", env = "KLS_REC_HLS_SEGMENT", long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration_ms)]
    pub(crate) hls_segment: i64,

    /// HLS segment format: MPEG-TS where it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), else fMP4
    #[arg(help_heading = "Output", env = "KLS_REC_HLS_SEGMENTS", long, value_name = "FORMAT", value_enum, default_value_t = crate::mux::hls::SegmentChoice::Auto)]
    pub(crate) hls_segments: crate::mux::hls::SegmentChoice,

    /// Add starttime and endtime to HLS callbacks
    #[arg(help_heading = "Output", env = "KLS_REC_CALLBACK_TIMES", long)]
    pub(crate) callback_times: bool,
}

/// Where S3 storage is, for uploads and `s3://` inputs: `record`, `inspect` and `splice` share
/// these flags; what they leave unset comes from the AWS environment
/// ([`crate::deliver::S3Access`]).
#[derive(Args, Debug, Clone)]
pub(crate) struct S3Args {
    /// S3 endpoint (KS3, MinIO, AWS …) [default: AWS_ENDPOINT_URL, the AWS profile's
    /// endpoint_url, else AWS for the region]
    #[arg(help_heading = "S3", env = "KLS_REC_ENDPOINT", long, value_name = "URL", value_parser = parse_http_url)]
    pub(crate) endpoint: Option<String>,

    /// S3 region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's, else us-east-1]
    #[arg(help_heading = "S3", env = "KLS_REC_REGION", long)]
    pub(crate) region: Option<String>,

    /// Path-style S3 addressing [default: on for IP and localhost endpoints]
    #[arg(help_heading = "S3", env = "KLS_REC_PATH_STYLE", long)]
    pub(crate) path_style: bool,
}

impl S3Args {
    /// The run's S3 settings; `s3://` inputs that must be downloaded go under `scratch`.
    pub(crate) fn open(&self, scratch: PathBuf) -> std::sync::Arc<crate::input::s3::S3Inputs> {
        let flags = crate::deliver::S3Flags {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            path_style: self.path_style.then_some(true),
        };
        std::sync::Arc::new(crate::input::s3::S3Inputs {
            access: crate::deliver::S3Access::from_env(flags),
            scratch,
        })
    }
}

/// Flags every subcommand takes.
#[derive(Args, Debug, Clone)]
pub(crate) struct CommonArgs {
    /// Read settings from a TOML file (the flags' names; flags and env win)
    #[arg(
        help_heading = "Run",
        long,
        env = "KLS_REC_CONFIG",
        value_name = "FILE"
    )]
    pub(crate) config: Option<PathBuf>,

    /// Less on stderr: -q no progress bar, -qq no warnings either (errors stay)
    #[arg(help_heading = "Run", short, long, env = "KLS_REC_QUIET", action = clap::ArgAction::Count, value_parser = style::parse_level)]
    pub(crate) quiet: u8,

    /// More on stderr: a line per input read and per file written, terminal or not
    #[arg(help_heading = "Run", short, long, env = "KLS_REC_VERBOSE", action = clap::ArgAction::Count, value_parser = style::parse_level)]
    pub(crate) verbose: u8,

    /// Colour the error: and warning: prefixes: auto (on a terminal, unless NO_COLOR is set)
    #[arg(
        help_heading = "Run",
        long,
        env = "KLS_REC_COLOR",
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub(crate) color: style::ColorChoice,
}

impl CommonArgs {
    /// Sets how kls-rec's messages look for the rest of the run.
    pub(super) fn install_style(&self) {
        style::Style::new(self.color, self.quiet, self.verbose).install();
    }
}

/// Flags of the commands that write recordings (`record`, `splice`).
#[derive(Args, Debug, Clone)]
pub(crate) struct RunArgs {
    /// Print a JSON summary of the run as the last line on stdout
    #[arg(help_heading = "Run", long, env = "KLS_REC_JSON")]
    pub(crate) json: bool,

    /// If another run holds the output root, wait for it to end instead of failing
    #[arg(help_heading = "Run", long, env = "KLS_REC_WAIT")]
    pub(crate) wait: bool,
}
