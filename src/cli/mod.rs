//! The command line: every flag defined once (in `flags.rs`, its value grammar in `values.rs`);
//! parsing and validation ("low args") are kept apart from the work ([`crate::record`]).
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
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::input::InputOptions;
use crate::mux::MuxOptions;
use crate::record::{self, Delivery, Outputs, RecordOptions};

mod flags;
mod inspect;
mod progress;
mod splice;
mod style;
mod values;

pub(crate) use flags::{CommonArgs, DecisionArgs, OutputArgs, RecordArgs, RunArgs, S3Args};
pub(crate) use values::parse_switch;

pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_FAILURE: i32 = 1;
pub(crate) const EXIT_USAGE: i32 = 2;
pub(crate) const EXIT_DAMAGED: i32 = 3;
pub(crate) const EXIT_DELIVERY: i32 = 4;
pub(crate) const EXIT_LOST_MEDIA: i32 = 5;

const EXIT_STATUS_HELP: &str = "\
Exit status: 0 success; 1 failure (an input unreadable, an output not written);
2 usage error; 3 done, but some input was damaged (recovered; see stderr);
4 files written, but an upload or callback failed (kept for the next run);
5 lost media: a requested format cannot carry a track that was read (see stderr).";

#[derive(Parser, Debug)]
#[command(
    name = "kls-rec",
    version = env!("KLS_REC_VERSION"),
    about = "Replay captured live pushes through a live service's recording rules",
    after_help = EXIT_STATUS_HELP,
    term_width = 80
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
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
pub(crate) enum Usage {
    Clap(clap::Error),
    Config(String),
}

/// Parses arguments with the precedence flag > `KLS_REC_*` environment > `--config` file >
/// default. Clap resolves flags, environment and defaults; settings from the file are then
/// inserted as flags for exactly those arguments whose value is still a default.
pub(crate) fn parse_from<I, T>(args: I) -> Result<Cli, Usage>
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
        extra.extend(config_flag(flag, value).map_err(|what| {
            Usage::Config(format!(
                "--config {}: setting '{name}' cannot be {what}",
                path.display()
            ))
        })?);
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

/// The arguments a `--config` setting stands for (`flag` with its value; nothing for `false`),
/// or the TOML type it cannot be.
fn config_flag(flag: OsString, value: &toml::Value) -> Result<Vec<OsString>, &'static str> {
    Ok(match value {
        toml::Value::Boolean(true) => vec![flag],
        toml::Value::Boolean(false) => Vec::new(),
        toml::Value::String(v) => vec![flag, v.into()],
        toml::Value::Integer(v) => vec![flag, v.to_string().into()],
        toml::Value::Float(v) => vec![flag, v.to_string().into()],
        toml::Value::Array(items) => {
            let joined: Vec<String> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect();
            vec![flag, joined.join(",").into()]
        }
        other @ (toml::Value::Datetime(_) | toml::Value::Table(_)) => return Err(other.type_str()),
    })
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
    run_and_draw(
        (&inputs, &input_opts, &opts),
        (&common, &run),
        Some(delivery_args),
        timeline.as_deref(),
        &scratch,
    )
}

/// [`finish_run`], then the scratch directory of downloaded inputs removed (they are kept for
/// the run only) and the `--timeline` drawn.
fn run_and_draw(
    (inputs, input_opts, opts): (&[String], &InputOptions, &RecordOptions),
    args: (&CommonArgs, &RunArgs),
    delivery_args: Option<DeliveryArgs>,
    timeline: Option<&std::path::Path>,
    scratch: &std::path::Path,
) -> Result<i32> {
    let result = finish_run(
        inputs,
        input_opts,
        opts,
        args,
        delivery_args,
        timeline.is_some(),
    );
    let _ = std::fs::remove_dir_all(scratch);
    let (code, summary) = result?;
    if let Some(path) = timeline {
        crate::timeline::write(path, &summary.streams)
            .with_context(|| format!("writing the timeline {}", path.display()))?;
    }
    Ok(code)
}

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
    } else if summary.lost_media > 0 {
        EXIT_LOST_MEDIA
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
pub(crate) fn record_settings(args: RecordArgs) -> (Vec<String>, InputOptions, RecordOptions) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        command().debug_assert();
    }
}
