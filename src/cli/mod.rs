//! The command line: every flag defined once here; parsing and validation ("low args") are kept
//! apart from the work ([`crate::record`]).
//!
//! Exit statuses (documented in the README and `--help`):
//! 0 success; 1 failure (an input could not be read, an output could not be written);
//! 2 usage error; 3 completed, but some input was damaged (recovered, reported on stderr);
//! 4 files written, but an upload or a callback failed (local files kept, callbacks spooled).

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::input::InputOptions;
use crate::mux::{Format, MuxOptions};
use crate::record::{self, Delivery, Outputs, RecordOptions, Shard};
use crate::rules;

mod inspect;
mod progress;
mod splice;
mod style;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_DAMAGED: i32 = 3;
pub const EXIT_DELIVERY: i32 = 4;

const EXIT_STATUS_HELP: &str = "\
Exit status: 0 success; 1 failure (an input unreadable, an output not written);
2 usage error; 3 done, but some input was damaged (recovered; see stderr);
4 files written, but an upload or callback failed (kept for the next run).";

#[derive(Parser, Debug)]
#[command(
    name = "kls-rec",
    version = env!("KLS_REC_VERSION"),
    about = "Replay captured live pushes through a live service's recording rules",
    after_help = EXIT_STATUS_HELP,
    term_width = 80
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Produce the recording files (and callbacks) the service would have produced
    #[command(after_help = EXIT_STATUS_HELP)]
    Record(Box<RecordArgs>),
    /// Join recordings of one stream into one file (like the service's CreateTask)
    #[command(after_help = EXIT_STATUS_HELP)]
    Splice(splice::SpliceArgs),
    /// Show what is inside inputs, or the decisions record would take (--rules)
    #[command(after_help = EXIT_STATUS_HELP)]
    Inspect(inspect::InspectArgs),
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Inputs: FLV, MP4, TS, HLS, RTMP dumps, pcap, logs, directories, s3:// URLs, - (stdin)
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub decide: DecisionArgs,

    /// Decide and print the files, write nothing
    #[arg(help_heading = "Run", env = "KLS_REC_DRY_RUN", long)]
    pub dry_run: bool,

    /// Print every decision with its reason on stderr
    #[arg(help_heading = "Run", env = "KLS_REC_EXPLAIN", long)]
    pub explain: bool,

    /// POST each callback here (retried; undelivered ones spooled for the next run)
    #[arg(help_heading = "Delivery", env = "KLS_REC_CALLBACK", long, value_name = "URL", value_parser = parse_http_url)]
    pub callback: Option<String>,

    /// Upload files to S3-compatible storage (credentials: AWS_* env, ~/.aws profile, roles)
    #[arg(help_heading = "Delivery", env = "KLS_REC_UPLOAD", long, value_name = "s3://BUCKET[/PREFIX]", value_parser = parse_upload_target)]
    pub upload: Option<String>,

    #[command(flatten)]
    pub s3: S3Args,

    /// Upload files larger than this in parts, e.g. 64MiB
    #[arg(help_heading = "Delivery", env = "KLS_REC_MULTIPART_THRESHOLD", long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub multipart_threshold: u64,

    /// Remove local files once uploaded
    #[arg(
        help_heading = "Delivery",
        env = "KLS_REC_DELETE_AFTER_UPLOAD",
        long,
        requires = "upload"
    )]
    pub delete_after_upload: bool,

    /// Streams recorded at once [default: the number of cores]
    #[arg(
        help_heading = "Run",
        env = "KLS_REC_JOBS",
        short = 'j',
        long,
        value_name = "N"
    )]
    pub jobs: Option<usize>,

    /// Only this share of the streams: K of N (0-based), by a stable hash
    #[arg(help_heading = "Run", env = "KLS_REC_SHARD", long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The settings that decide which files a run makes: `record` and `inspect --rules` share
/// them, so both read the same flags, environment and config names.
#[derive(Args, Debug, Clone)]
pub struct DecisionArgs {
    /// Output formats, comma-separated: hls, mp4, flv
    #[arg(
        help_heading = "Rules",
        env = "KLS_REC_FORMATS",
        long,
        value_name = "LIST",
        default_value = "hls",
        value_delimiter = ','
    )]
    pub formats: Vec<Format>,

    /// App name for inputs that do not carry one [default: live]
    #[arg(help_heading = "Rules", env = "KLS_REC_APP", long)]
    pub app: Option<String>,

    /// Stream name for inputs that do not carry one [default: the file stem]
    #[arg(help_heading = "Rules", env = "KLS_REC_STREAM", long)]
    pub stream: Option<String>,

    /// vdoid for inputs that do not carry one
    #[arg(help_heading = "Rules", env = "KLS_REC_VDOID", long)]
    pub vdoid: Option<String>,

    /// Wall clock of the first packet: Unix seconds, Unix ms, or RFC 3339
    #[arg(help_heading = "Rules", env = "KLS_REC_START_TIME", long, value_name = "TIME", value_parser = crate::wallclock::parse_time_ms)]
    pub start_time: Option<i64>,

    /// Slice length: a file is cut at the next keyframe after it
    #[arg(help_heading = "Rules", env = "KLS_REC_SLICE", long, value_name = "DURATION", default_value = "6h", value_parser = parse_positive_duration_ms)]
    pub slice: i64,

    /// Recording period, consulted when a push resumes [default: none]
    #[arg(help_heading = "Rules", env = "KLS_REC_PERIOD", long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub period: Option<i64>,

    /// Resumes within this gap are appended to the held file (0: never)
    #[arg(help_heading = "Rules", env = "KLS_REC_SPLICE_WINDOW", long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration_ms)]
    pub splice_window: i64,

    /// Draw pushes, gaps and files with their reasons: FILE.svg or FILE.html
    #[arg(help_heading = "Rules", env = "KLS_REC_TIMELINE", long, value_name = "FILE", value_parser = parse_timeline_path)]
    pub timeline: Option<PathBuf>,
}

impl DecisionArgs {
    /// What inputs need from the flags.
    pub fn input_options(&self) -> InputOptions {
        InputOptions {
            app: self.app.clone(),
            stream: self.stream.clone(),
            vdoid: self.vdoid.clone(),
            start_time_ms: self.start_time,
            s3: None,
        }
    }

    /// The rules and formats (checked as they were parsed); everything else at its default.
    pub fn record_options(&self) -> RecordOptions {
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
pub struct OutputArgs {
    /// Output root; files go under record/{App}/{StreamName}/{format}/
    #[arg(
        help_heading = "Output",
        env = "KLS_REC_OUT_DIR",
        short = 'o',
        long,
        value_name = "DIR",
        default_value = "."
    )]
    pub out_dir: PathBuf,

    /// HLS target segment length
    #[arg(help_heading = "Output", env = "KLS_REC_HLS_SEGMENT", long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration_ms)]
    pub hls_segment: i64,

    /// HLS segment format: MPEG-TS where it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), else fMP4
    #[arg(help_heading = "Output", env = "KLS_REC_HLS_SEGMENTS", long, value_name = "FORMAT", value_enum, default_value_t = crate::mux::hls::SegmentChoice::Auto)]
    pub hls_segments: crate::mux::hls::SegmentChoice,

    /// Add starttime and endtime to HLS callbacks
    #[arg(help_heading = "Output", env = "KLS_REC_CALLBACK_TIMES", long)]
    pub callback_times: bool,
}

/// Where S3 storage is, for uploads and `s3://` inputs: `record`, `inspect` and `splice` share
/// these flags; what they leave unset comes from the AWS environment
/// ([`crate::deliver::S3Access`]).
#[derive(Args, Debug, Clone)]
pub struct S3Args {
    /// S3 endpoint (KS3, MinIO, AWS …) [default: AWS_ENDPOINT_URL, the AWS profile's
    /// endpoint_url, else AWS for the region]
    #[arg(help_heading = "S3", env = "KLS_REC_ENDPOINT", long, value_name = "URL", value_parser = parse_http_url)]
    pub endpoint: Option<String>,

    /// S3 region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's, else us-east-1]
    #[arg(help_heading = "S3", env = "KLS_REC_REGION", long)]
    pub region: Option<String>,

    /// Path-style S3 addressing [default: on for IP and localhost endpoints]
    #[arg(help_heading = "S3", env = "KLS_REC_PATH_STYLE", long)]
    pub path_style: bool,
}

impl S3Args {
    /// The run's S3 settings; `s3://` inputs that must be downloaded go under `scratch`.
    pub fn open(&self, scratch: PathBuf) -> std::sync::Arc<crate::input::s3::S3Inputs> {
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
pub struct CommonArgs {
    /// Read settings from a TOML file (the flags' names; flags and env win)
    #[arg(
        help_heading = "Run",
        long,
        env = "KLS_REC_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Less on stderr: -q no progress bar, -qq no warnings either (errors stay)
    #[arg(help_heading = "Run", short, long, env = "KLS_REC_QUIET", action = clap::ArgAction::Count, value_parser = style::parse_level)]
    pub quiet: u8,

    /// More on stderr: a line per input read and per file written, terminal or not
    #[arg(help_heading = "Run", short, long, env = "KLS_REC_VERBOSE", action = clap::ArgAction::Count, value_parser = style::parse_level)]
    pub verbose: u8,

    /// Colour the error: and warning: prefixes: auto (on a terminal, unless NO_COLOR is set)
    #[arg(
        help_heading = "Run",
        long,
        env = "KLS_REC_COLOR",
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: style::ColorChoice,
}

impl CommonArgs {
    /// Sets how kls-rec's messages look for the rest of the run.
    fn install_style(&self) {
        style::Style::new(self.color, self.quiet, self.verbose).install();
    }
}

/// Flags of the commands that write recordings (`record`, `splice`).
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Print a JSON summary of the run as the last line on stdout
    #[arg(help_heading = "Run", long, env = "KLS_REC_JSON")]
    pub json: bool,

    /// If another run holds the output root, wait for it to end instead of failing
    #[arg(help_heading = "Run", long, env = "KLS_REC_WAIT")]
    pub wait: bool,
}

/// The environment variables read that are not a flag's (for the man pages).
pub fn other_environment() -> Vec<(&'static str, &'static str)> {
    use crate::deliver::retry::{ENV_ATTEMPTS, ENV_MAX_DELAY_MS};
    vec![
        (
            "AWS_ACCESS_KEY_ID",
            "S3 access key for --upload and s3:// inputs.",
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            "S3 secret key for --upload and s3:// inputs.",
        ),
        (
            "AWS_SESSION_TOKEN",
            "S3 session token, with temporary credentials.",
        ),
        (
            ENV_ATTEMPTS,
            "Upload and callback attempts in all (default 5).",
        ),
        (
            ENV_MAX_DELAY_MS,
            "Longest delay between attempts, in milliseconds.",
        ),
        (
            "NO_COLOR",
            "Set and not empty: no colour with --color auto.",
        ),
    ]
}

/// What kls-rec keeps in and under the output root (`-o DIR`), for the man pages.
pub fn files() -> Vec<(String, &'static str)> {
    use crate::deliver::{lock::LOCK_FILE, spool::DELIVERED_FILE, spool::SPOOL_FILE};
    vec![
        (
            "DIR/record/APP/STREAM/FORMAT/".into(),
            "The recordings, under the names the service gives them.",
        ),
        (
            format!("DIR/{LOCK_FILE}"),
            "Held while a run writes to DIR; a second run on DIR fails (status 1).",
        ),
        (
            format!("DIR/{SPOOL_FILE}"),
            "Callbacks not yet delivered (JSON Lines), sent first by the next run.",
        ),
        (
            format!("DIR/{DELIVERED_FILE}"),
            "Callbacks delivered, so a re-run does not send them again.",
        ),
        (
            format!("DIR/{INPUTS_SCRATCH}/"),
            "s3:// inputs that must be downloaded, for the run only.",
        ),
        (
            "FILE given to --config".into(),
            "Settings in TOML, under the flags' names.",
        ),
    ]
}

/// Where `s3://` inputs that cannot be streamed are downloaded, in the output root.
pub(super) const INPUTS_SCRATCH: &str = ".kls-rec-inputs";

/// Runs the command line; returns the exit status.
pub fn main() -> i32 {
    crate::deliver::init_tls();
    let cli = match parse_from(std::env::args_os()) {
        Ok(c) => c,
        Err(Usage::Clap(e)) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
        Err(Usage::Config(msg)) => {
            eprintln!("error: {msg}");
            return EXIT_USAGE;
        }
    };
    match &cli.command {
        Command::Record(args) => args.common.install_style(),
        Command::Splice(args) => args.common.install_style(),
        Command::Inspect(args) => args.common.install_style(),
    }
    match cli.command {
        Command::Record(args) => run_record(*args),
        Command::Splice(args) => splice::run(args),
        Command::Inspect(args) => inspect::run(args),
    }
    .unwrap_or_else(|e| {
        // As ripgrep: a closed stdout (`| head -1`) is the reader's choice, not a failure.
        if record::is_broken_pipe(&e) {
            return EXIT_OK;
        }
        style::error(&format!("{e:#}"));
        EXIT_FAILURE
    })
}

/// The command definition, with environment values hidden from help (they may be secrets),
/// and on/off settings read from the environment as [`parse_switch`] reads them.
pub fn command() -> clap::Command {
    fn arg(a: clap::Arg) -> clap::Arg {
        let a = a.hide_env_values(true);
        match a.get_action() {
            clap::ArgAction::SetTrue => a.value_parser(parse_switch),
            _ => a,
        }
    }
    Cli::command()
        .mut_args(arg)
        .mut_subcommands(|s| s.mut_args(arg))
}

/// Why the command line was refused (exit status 2).
pub enum Usage {
    Clap(clap::Error),
    Config(String),
}

/// Parses arguments with the precedence flag > `KLS_REC_*` environment > `--config` file >
/// default. Clap resolves flags, environment and defaults; settings from the file are then
/// inserted as flags for exactly those arguments whose value is still a default.
pub fn parse_from<I, T>(args: I) -> Result<Cli, Usage>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let command = command();
    let matches = command
        .clone()
        .try_get_matches_from(&argv)
        .map_err(|e| name_the_variable(e, &command, &argv))?;
    let (sub_name, sub_matches) = matches.subcommand().expect("a subcommand is required");
    let Some(path) = sub_matches.get_one::<PathBuf>("config") else {
        return checked(&matches);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Usage::Config(format!("reading --config {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| Usage::Config(format!("--config {}: {e}", path.display())))?;
    let sub = command
        .find_subcommand(sub_name)
        .expect("the parsed subcommand exists");
    let mut extra = Vec::new();
    for (name, value) in &table {
        let long = name.replace('_', "-");
        let arg = sub
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()) && long != "config");
        let Some(arg) = arg else {
            let known_elsewhere = command.get_subcommands().any(|c| {
                c.get_arguments()
                    .any(|a| a.get_long() == Some(long.as_str()))
            });
            if known_elsewhere {
                continue;
            }
            return Err(Usage::Config(format!(
                "--config {}: unknown setting '{name}'",
                path.display()
            )));
        };
        let source = sub_matches.value_source(arg.get_id().as_str());
        if matches!(
            source,
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let flag = OsString::from(format!("--{long}"));
        match value {
            toml::Value::Boolean(true) => extra.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::String(v) => extra.extend([flag, v.into()]),
            toml::Value::Integer(v) => extra.extend([flag, v.to_string().into()]),
            toml::Value::Float(v) => extra.extend([flag, v.to_string().into()]),
            toml::Value::Array(items) => {
                let joined: Vec<String> = items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect();
                extra.extend([flag, joined.join(",").into()]);
            }
            other => {
                return Err(Usage::Config(format!(
                    "--config {}: setting '{name}' cannot be {}",
                    path.display(),
                    other.type_str()
                )));
            }
        }
    }
    // The file's flags go right after the subcommand, before the user's own arguments.
    let at = argv
        .iter()
        .position(|a| a == sub_name)
        .map_or(argv.len(), |i| i + 1);
    let mut merged = argv[..at].to_vec();
    merged.extend(extra);
    merged.extend_from_slice(&argv[at..]);
    let matches = command
        .clone()
        .try_get_matches_from(&merged)
        .map_err(|e| name_the_variable(e, &command, &argv))?;
    checked(&matches)
}

/// The settings that only make sense together, checked before any work.
fn checked(matches: &clap::ArgMatches) -> Result<Cli, Usage> {
    let cli = Cli::from_arg_matches(matches).map_err(Usage::Clap)?;
    if let Command::Inspect(args) = &cli.command
        && !args.rules
        && args.decide.timeline.is_some()
    {
        return Err(Usage::Config(
            "--timeline draws the decisions of inspect --rules: add --rules".into(),
        ));
    }
    Ok(cli)
}

/// A value that clap refused and that came from a `KLS_REC_*` variable (not from the command
/// line) is reported under the variable's name, so the user knows where to look.
fn name_the_variable(e: clap::Error, command: &clap::Command, argv: &[OsString]) -> Usage {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return Usage::Clap(e);
    }
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return Usage::Clap(e);
    };
    let long = arg.split([' ', '=']).next().unwrap_or_default();
    let long = long.trim_end_matches("...");
    let on_command_line = argv.iter().any(|a| {
        let a = a.to_string_lossy();
        a == long || a.starts_with(&format!("{long}="))
    });
    let var = command
        .get_subcommands()
        .flat_map(|c| c.get_arguments())
        .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long))
        .and_then(|a| a.get_env());
    match var {
        Some(var) if !on_command_line && std::env::var_os(var).is_some_and(|v| v == **value) => {
            let why = std::error::Error::source(&e).map_or_else(String::new, |s| s.to_string());
            Usage::Config(format!(
                "invalid value '{value}' in the environment variable {} (for {long}): {why}",
                var.to_string_lossy()
            ))
        }
        _ => Usage::Clap(e),
    }
}

fn run_record(args: RecordArgs) -> Result<i32> {
    let (common, run) = (args.common.clone(), args.run.clone());
    let s3_args = args.s3.clone();
    let mut delivery_args = DeliveryArgs {
        callback: args.callback.clone(),
        upload: args.upload.clone(),
        s3: None,
        delete_after_upload: args.delete_after_upload,
        multipart_threshold: args.multipart_threshold,
    };
    let timeline = args.decide.timeline.clone();
    let (inputs, mut input_opts, opts) = record_settings(args);
    let scratch = opts.out_dir.join(INPUTS_SCRATCH);
    // One set of S3 settings (and one credential lookup) for inputs and uploads.
    let s3 = s3_args.open(scratch.clone());
    input_opts.s3 = Some(s3.clone());
    delivery_args.s3 = Some(s3);
    let result = finish_run(
        &inputs,
        &input_opts,
        &opts,
        (&common, &run),
        Some(delivery_args),
        timeline.is_some(),
    );
    // Inputs downloaded from S3 are kept for the run only.
    let _ = std::fs::remove_dir_all(&scratch);
    let (code, summary) = result?;
    if let Some(path) = &timeline {
        crate::timeline::write(path, &summary.streams)
            .with_context(|| format!("writing the timeline {}", path.display()))?;
    }
    Ok(code)
}

/// Runs the pipeline with the output root locked, progress on a terminal, callbacks on stdout
/// or delivered, the `--json` summary; returns the exit status. The summary keeps the stream
/// reports only with `keep_streams` (a timeline), never the files.
fn finish_run(
    inputs: &[String],
    input_opts: &InputOptions,
    opts: &RecordOptions,
    (common, run): (&CommonArgs, &RunArgs),
    delivery_args: Option<DeliveryArgs>,
    keep_streams: bool,
) -> Result<(i32, record::Summary)> {
    // One run per output root at a time; a dry run writes nothing and needs no lock.
    let lock = if opts.dry_run {
        None
    } else {
        std::fs::create_dir_all(&opts.out_dir)?;
        Some(crate::deliver::OutputLock::acquire(
            &opts.out_dir,
            run.wait,
        )?)
    };
    let delivery = match (&lock, delivery_args) {
        (Some(lock), Some(d)) => d.open(lock)?,
        _ => None,
    };
    let bars = progress::Bars::new(common.quiet == 0 && io::stderr().is_terminal());
    let kill_switch = crate::killpoint::KillAt::from_env(&bars);
    let mut out = bars.out();
    let mut log = bars.log();
    // With --json, stdout is JSON only: the dry-run plan is in the summary's files.
    let mut no_plan = io::sink();
    let run_out: &mut dyn Write = if run.json && opts.dry_run {
        &mut no_plan
    } else {
        &mut out
    };
    // Each stream's results are let go once printed (or spooled for --json), so memory does
    // not grow with the run; the reports stay only for a timeline.
    let mut json = if run.json {
        Some(record::JsonSpool::new(keep_streams)?)
    } else {
        None
    };
    let mut keep = record::KeepStreams(keep_streams.then(Vec::new));
    let reports: &mut dyn record::Reports = match json.as_mut() {
        Some(j) => j,
        None => &mut keep,
    };
    let mut summary = record::run_with(
        inputs,
        input_opts,
        opts,
        &mut Outputs {
            out: run_out,
            log: &mut log,
            progress: &kill_switch,
            delivery: delivery.as_ref(),
        },
        Some(reports),
    )?;
    bars.finish();
    let code = if !summary.failures.is_empty() {
        EXIT_FAILURE
    } else if summary.delivery_failures > 0 {
        EXIT_DELIVERY
    } else if summary.damage > 0 {
        EXIT_DAMAGED
    } else {
        EXIT_OK
    };
    summary.streams = match json {
        Some(j) => j.finish(&summary, code, &mut out)?,
        None => keep.0.unwrap_or_default(),
    };
    out.flush()?;
    Ok((code, summary))
}

/// Upload and callback settings, opened into a [`Delivery`] once the output root is locked.
struct DeliveryArgs {
    callback: Option<String>,
    upload: Option<String>,
    s3: Option<std::sync::Arc<crate::input::s3::S3Inputs>>,
    delete_after_upload: bool,
    multipart_threshold: u64,
}

impl DeliveryArgs {
    fn open(self, lock: &crate::deliver::OutputLock) -> Result<Option<Delivery>> {
        if self.callback.is_none() && self.upload.is_none() {
            return Ok(None);
        }
        // Hidden environment knobs may shorten the retries (see the README, "Retries").
        let retry = crate::deliver::RetryPolicy::from_env()?;
        let uploader = match &self.upload {
            Some(target) => Some(
                crate::deliver::Uploader::new(
                    target,
                    &self
                        .s3
                        .as_ref()
                        .context("uploads need the S3 settings")?
                        .access,
                )?
                .with_options(crate::deliver::S3Options {
                    multipart_threshold: self.multipart_threshold,
                    retry: retry.clone(),
                    ..Default::default()
                }),
            ),
            None => None,
        };
        let callbacks = match &self.callback {
            Some(url) => {
                let poster =
                    crate::deliver::Poster::new(url, crate::deliver::Timeouts::default(), retry)?;
                let sender = crate::deliver::CallbackSender::new(lock, poster)?;
                // What earlier runs could not deliver goes first.
                let report = sender.redeliver_spool()?;
                if report.delivered + report.still_spooled > 0 {
                    eprintln!(
                        "callbacks from earlier runs: {} delivered, {} still spooled",
                        report.delivered, report.still_spooled
                    );
                }
                Some(sender)
            }
            None => None,
        };
        Ok(Some(Delivery {
            uploader,
            delete_after_upload: self.delete_after_upload,
            callbacks,
        }))
    }
}

/// Validates the arguments into the pipeline's settings.
pub fn record_settings(args: RecordArgs) -> (Vec<String>, InputOptions, RecordOptions) {
    let opts = RecordOptions {
        out_dir: args.output.out_dir,
        mux: MuxOptions {
            hls_segment_90k: args.output.hls_segment * 90,
            hls_segments: args.output.hls_segments,
        },
        dry_run: args.dry_run,
        explain: args.explain,
        callback_times: args.output.callback_times,
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        shard: args.shard,
        ..args.decide.record_options()
    };
    (args.inputs, args.decide.input_options(), opts)
}

/// Sizes like `64MiB`, `5MB`, `1048576` (bytes); binary and decimal units.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..split]
        .parse()
        .map_err(|_| format!("'{s}' is not a size (like 64MiB)"))?;
    let unit: u64 = match t[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        u => {
            return Err(format!(
                "'{s}': unknown unit '{u}' (B, KiB, MiB, GiB, kB, MB, GB)"
            ));
        }
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// `--shard K/N`: shard K (0-based) of N.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("'{s}' is not K/N (like 0/3)"))?;
    let (index, count): (u64, u64) = (
        k.trim()
            .parse()
            .map_err(|_| format!("'{s}': K is not a number"))?,
        n.trim()
            .parse()
            .map_err(|_| format!("'{s}': N is not a number"))?,
    );
    if count == 0 || index >= count {
        return Err(format!("'{s}': K must be below N (shards are 0 to N-1)"));
    }
    Ok(Shard { index, count })
}

/// Durations: a sequence of number-and-unit terms, units `d`, `h`, `m`, `s`, `ms`, each once
/// and largest first, spaces between terms allowed (`6h`, `1h30m`, `1h 30m`, `1.5s`, `1d`); a
/// bare whole number is seconds (`0`, `90`). No exponents, signs or unitless fractions.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    const UNITS: [(&str, f64); 5] = [
        ("d", 86_400_000.0),
        ("h", 3_600_000.0),
        ("m", 60_000.0),
        ("s", 1000.0),
        ("ms", 1.0),
    ];
    let like = "like 6h, 1h30m, 1h 30m, 90s, 500ms";
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("empty duration ({like})"));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(1000))
            .filter(|&ms| ms <= 1_000_000_000_000_000)
            .ok_or_else(|| format!("'{s}' is out of range"));
    }
    let mut total = 0.0;
    let mut rest = t;
    let mut next_unit = 0; // terms come largest unit first, each once
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let value: f64 = match number.parse() {
            Ok(v) if !number.starts_with('.') && !number.ends_with('.') => v,
            _ => return Err(format!("'{s}' is not a duration ({like})")),
        };
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let Some(at) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                format!("'{s}': {number} needs a unit (d, h, m, s or ms)")
            } else {
                format!("'{s}': unknown unit '{unit}' (d, h, m, s or ms)")
            });
        };
        if at < next_unit {
            return Err(format!("'{s}': each unit once, largest first ({like})"));
        }
        next_unit = at + 1;
        total += value * UNITS[at].1;
        rest = rest[unit_len..].trim_start();
    }
    let ms = total.round();
    if !(0.0..=1e15).contains(&ms) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(ms as i64)
}

/// A duration that must be longer than 0 (`--slice`, `--hls-segment`).
pub fn parse_positive_duration_ms(s: &str) -> Result<i64, String> {
    match parse_duration_ms(s)? {
        0 => Err(format!("'{s}': must be longer than 0")),
        ms => Ok(ms),
    }
}

/// An `http://` or `https://` URL with a host (`--callback`, `--endpoint`).
pub fn parse_http_url(s: &str) -> Result<String, String> {
    let lower = s.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .ok_or_else(|| "must start with http:// or https://".to_string())?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("the URL names no host".into());
    }
    Ok(s.to_string())
}

/// `--upload s3://BUCKET[/PREFIX]`, checked as the uploader will read it.
pub fn parse_upload_target(s: &str) -> Result<String, String> {
    s.parse::<crate::deliver::s3::Target>()
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// `--timeline FILE.svg` or `FILE.html`.
pub fn parse_timeline_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    crate::timeline::Kind::of(&path).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The values an on/off setting takes from the environment or a config file: `1`/`0`,
/// `true`/`false`, `yes`/`no`, in any case.
pub fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(format!("'{s}' is not on or off (1/0, true/false, yes/no)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, ms) in [
            ("6h", 6 * 3_600_000),
            ("3m", 180_000),
            ("90s", 90_000),
            ("1h30m", 5_400_000),
            ("1h 30m", 5_400_000),
            ("1h30m15s", 5_415_000),
            ("1d", 86_400_000),
            ("1d 2h", 93_600_000),
            ("500ms", 500),
            ("1s500ms", 1500),
            ("1.5s", 1500),
            ("0", 0),
            ("10", 10_000),
        ] {
            assert_eq!(parse_duration_ms(s), Ok(ms), "{s}");
        }
        for bad in [
            "", "h", "5x", "-3m", "1e3", "1e400", "3m-", "1.5", "30m1h", "1m1m", ".5s", "5.s",
            "1min", "+5s",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert!(parse_positive_duration_ms("0").is_err());
        assert!(parse_positive_duration_ms("0s").is_err());
        assert_eq!(parse_positive_duration_ms("1ms"), Ok(1));
    }

    #[test]
    fn settings_checked_before_work() {
        assert!(parse_http_url("https://example.com/cb").is_ok());
        assert!(parse_http_url("HTTP://127.0.0.1:8080").is_ok());
        for bad in [
            "notaurl",
            "ftp://x",
            "http://",
            "http:///path",
            "http://:80/",
        ] {
            assert!(parse_http_url(bad).is_err(), "{bad}");
        }
        assert!(parse_upload_target("s3://media/live").is_ok());
        assert!(parse_upload_target("http://x").is_err());
        assert!(parse_timeline_path("plan.svg").is_ok() && parse_timeline_path("p.HTML").is_ok());
        assert!(parse_timeline_path("t.png").is_err());
        for (s, on) in [
            ("1", true),
            ("YES", true),
            ("True", true),
            ("0", false),
            ("no", false),
        ] {
            assert_eq!(parse_switch(s), Ok(on), "{s}");
        }
        assert!(parse_switch("maybe").is_err() && parse_switch("on").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("lots").is_err() && parse_size("5XB").is_err());
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1", "a/3", "0/0", "-1/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        command().debug_assert();
    }
}
