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

use anyhow::{Context, Result, bail};
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::input::InputOptions;
use crate::mux::{Format, MuxOptions};
use crate::record::{self, Delivery, Outputs, RecordOptions, Shard};
use crate::rules;

mod inspect;
mod progress;
mod splice;

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
    version,
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
    /// Inputs: FLV, MP4, TS, HLS, RTMP dumps, pcap, logs, s3:// URLs, - (stdin)
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Output root; files go under record/{App}/{StreamName}/{format}/
    #[arg(
        env = "KLS_REC_OUT_DIR",
        short = 'o',
        long,
        value_name = "DIR",
        default_value = "."
    )]
    pub out_dir: PathBuf,

    #[command(flatten)]
    pub decide: DecisionArgs,

    /// HLS target segment length
    #[arg(env = "KLS_REC_HLS_SEGMENT", long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration_ms)]
    pub hls_segment: i64,

    /// Decide and print the files, write nothing
    #[arg(env = "KLS_REC_DRY_RUN", long)]
    pub dry_run: bool,

    /// Print every decision with its reason on stderr
    #[arg(env = "KLS_REC_EXPLAIN", long)]
    pub explain: bool,

    /// Add starttime and endtime to HLS callbacks
    #[arg(env = "KLS_REC_CALLBACK_TIMES", long)]
    pub callback_times: bool,

    /// POST each callback here (retried; undelivered ones spooled for the next run)
    #[arg(env = "KLS_REC_CALLBACK", long, value_name = "URL")]
    pub callback: Option<String>,

    /// Upload files to S3-compatible storage (credentials from AWS_* env)
    #[arg(env = "KLS_REC_UPLOAD", long, value_name = "s3://BUCKET[/PREFIX]")]
    pub upload: Option<String>,

    /// S3 endpoint (KS3, MinIO, AWS …) [default: AWS for --region]
    #[arg(env = "KLS_REC_ENDPOINT", long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// S3 region
    #[arg(env = "KLS_REC_REGION", long)]
    pub region: Option<String>,

    /// Path-style S3 addressing [default: on for IP and localhost endpoints]
    #[arg(env = "KLS_REC_PATH_STYLE", long)]
    pub path_style: bool,

    /// Upload files larger than this in parts, e.g. 64MiB
    #[arg(env = "KLS_REC_MULTIPART_THRESHOLD", long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub multipart_threshold: u64,

    /// Remove local files once uploaded
    #[arg(env = "KLS_REC_DELETE_AFTER_UPLOAD", long, requires = "upload")]
    pub delete_after_upload: bool,

    /// Streams recorded at once [default: the number of cores]
    #[arg(env = "KLS_REC_JOBS", short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Only this share of the streams: K of N (0-based), by a stable hash
    #[arg(env = "KLS_REC_SHARD", long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The settings that decide which files a run makes: `record` and `inspect --rules` share
/// them, so both read the same flags, environment and config names.
#[derive(Args, Debug, Clone)]
pub struct DecisionArgs {
    /// Output formats, comma-separated: hls, mp4, flv
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

    /// Slice length: a file is cut at the next keyframe after it
    #[arg(env = "KLS_REC_SLICE", long, value_name = "DURATION", default_value = "6h", value_parser = parse_duration_ms)]
    pub slice: i64,

    /// Recording period, consulted when a push resumes [default: none]
    #[arg(env = "KLS_REC_PERIOD", long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub period: Option<i64>,

    /// Resumes within this gap are appended to the held file (0: never)
    #[arg(env = "KLS_REC_SPLICE_WINDOW", long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration_ms)]
    pub splice_window: i64,

    /// Draw pushes, gaps and files with their reasons: FILE.svg or FILE.html
    #[arg(env = "KLS_REC_TIMELINE", long, value_name = "FILE")]
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
        }
    }

    /// The rules and formats, validated; everything else at its default.
    pub fn record_options(&self) -> Result<RecordOptions> {
        if self.slice <= 0 {
            bail!("--slice must be longer than 0");
        }
        let mut formats = self.formats.clone();
        formats.sort();
        formats.dedup();
        Ok(RecordOptions {
            formats,
            rules: rules::Settings {
                slice_ms: self.slice,
                period_ms: self.period.filter(|&p| p > 0),
                splice_window_ms: self.splice_window,
            },
            ..RecordOptions::default()
        })
    }
}

/// Flags every subcommand takes.
#[derive(Args, Debug)]
pub struct CommonArgs {
    /// Read settings from a TOML file (the flags' names; flags and env win)
    #[arg(long, env = "KLS_REC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// No progress bars
    #[arg(short, long, env = "KLS_REC_QUIET")]
    pub quiet: bool,

    /// Print a JSON summary of the run as the last line on stdout
    #[arg(long, env = "KLS_REC_JSON")]
    pub json: bool,
}

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
    match cli.command {
        Command::Record(args) => run_record(*args),
        Command::Splice(args) => splice::run(args),
        Command::Inspect(args) => inspect::run(args),
    }
    .unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        EXIT_FAILURE
    })
}

/// The command definition, with environment values hidden from help (they may be secrets).
pub fn command() -> clap::Command {
    Cli::command()
        .mut_args(|a| a.hide_env_values(true))
        .mut_subcommands(|s| s.mut_args(|a| a.hide_env_values(true)))
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
        .map_err(Usage::Clap)?;
    let (sub_name, sub_matches) = matches.subcommand().expect("a subcommand is required");
    let Some(path) = sub_matches.get_one::<PathBuf>("config") else {
        return Cli::from_arg_matches(&matches).map_err(Usage::Clap);
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
    let matches = command.try_get_matches_from(&merged).map_err(Usage::Clap)?;
    Cli::from_arg_matches(&matches).map_err(Usage::Clap)
}

fn run_record(args: RecordArgs) -> Result<i32> {
    let common = CommonArgs {
        config: args.common.config.clone(),
        quiet: args.common.quiet,
        json: args.common.json,
    };
    let delivery_args = DeliveryArgs {
        callback: args.callback.clone(),
        upload: args.upload.clone(),
        endpoint: args.endpoint.clone(),
        region: args.region.clone(),
        path_style: args.path_style,
        delete_after_upload: args.delete_after_upload,
        multipart_threshold: args.multipart_threshold,
    };
    let timeline = args.decide.timeline.clone();
    let (inputs, input_opts, opts) = record_settings(args)?;
    let scratch = opts.out_dir.join(".kls-rec-inputs");
    crate::input::s3::configure(crate::input::s3::S3Access {
        endpoint: delivery_args.endpoint.clone(),
        region: delivery_args.region.clone(),
        path_style: delivery_args.path_style.then_some(true),
        scratch: Some(scratch.clone()),
    });
    let result = finish_run(&inputs, &input_opts, &opts, &common, Some(delivery_args));
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
/// or delivered, the `--json` summary; returns the exit status.
fn finish_run(
    inputs: &[String],
    input_opts: &InputOptions,
    opts: &RecordOptions,
    common: &CommonArgs,
    delivery_args: Option<DeliveryArgs>,
) -> Result<(i32, record::Summary)> {
    // One run per output root at a time; a dry run writes nothing and needs no lock.
    let lock = if opts.dry_run {
        None
    } else {
        std::fs::create_dir_all(&opts.out_dir)?;
        Some(crate::deliver::OutputLock::acquire(&opts.out_dir, false)?)
    };
    let delivery = match (&lock, delivery_args) {
        (Some(lock), Some(d)) => d.open(lock)?,
        _ => None,
    };
    let bars = progress::Bars::new(!common.quiet && io::stderr().is_terminal());
    let kill_switch = crate::killpoint::KillAt::from_env(&bars);
    let mut out = bars.out();
    let mut log = bars.log();
    let summary = record::run(
        inputs,
        input_opts,
        opts,
        &mut Outputs {
            out: &mut out,
            log: &mut log,
            progress: &kill_switch,
            delivery: delivery.as_ref(),
        },
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
    if common.json {
        writeln!(out, "{}", record::summary_json(&summary, code))?;
    }
    out.flush()?;
    Ok((code, summary))
}

/// Upload and callback settings, opened into a [`Delivery`] once the output root is locked.
struct DeliveryArgs {
    callback: Option<String>,
    upload: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: bool,
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
                    self.endpoint.as_deref(),
                    self.region.as_deref(),
                    self.path_style.then_some(true),
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
pub fn record_settings(args: RecordArgs) -> Result<(Vec<String>, InputOptions, RecordOptions)> {
    if args.hls_segment <= 0 {
        bail!("--hls-segment must be longer than 0");
    }
    let opts = RecordOptions {
        out_dir: args.out_dir,
        mux: MuxOptions {
            hls_segment_90k: args.hls_segment * 90,
        },
        dry_run: args.dry_run,
        explain: args.explain,
        callback_times: args.callback_times,
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        shard: args.shard,
        ..args.decide.record_options()?
    };
    Ok((args.inputs, args.decide.input_options(), opts))
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

/// Durations like `6h`, `3m`, `90s`, `1h30m`, `500ms`; a bare number is seconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs_to_ms(secs, s);
    }
    let mut total = 0i64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("'{s}': a number needs a unit (h, m, s, ms)"))?;
        if digits == 0 {
            return Err(format!("'{s}' is not a duration (like 6h, 3m, 90s, 1h30m)"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("'{s}' is not a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3_600_000.0,
            "m" | "min" => 60_000.0,
            "s" => 1000.0,
            "ms" => 1.0,
            u => return Err(format!("'{s}': unknown unit '{u}' (use h, m, s or ms)")),
        };
        rest = &rest[unit_len..];
        total = total
            .checked_add(secs_to_ms(value * scale / 1000.0, s)?)
            .ok_or_else(|| format!("'{s}' is too long"))?;
    }
    Ok(total)
}

fn secs_to_ms(secs: f64, original: &str) -> Result<i64, String> {
    let ms = (secs * 1000.0).round();
    if !ms.is_finite() || !(0.0..=1e15).contains(&ms) {
        return Err(format!("'{original}' is out of range"));
    }
    Ok(ms as i64)
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
            ("1h30m15s", 5_415_000),
            ("500ms", 500),
            ("1.5s", 1500),
            ("0", 0),
            ("10", 10_000),
        ] {
            assert_eq!(parse_duration_ms(s), Ok(ms), "{s}");
        }
        for bad in ["", "h", "5x", "-3m", "1e400", "3m-"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
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
