//! The command line as people meet it: help, settings precedence, generated documentation.

use std::path::Path;
use std::process::Command;

use kls_rec::cli::command;

#[path = "cli/man.rs"]
mod man;
use kls_rec::testutil::{scratch, testdata};

fn kls_rec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kls-rec"));
    // Settings from the developer's environment must not leak into the tests.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KLS_REC_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn help_fits_80_columns_and_every_flag_is_described() {
    for args in [vec!["--help"], vec!["record", "--help"]] {
        let out = kls_rec().args(&args).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: too wide: {line:?}");
        }
    }
    let mut cmd = command();
    for sub in cmd.get_subcommands_mut() {
        for arg in sub.get_arguments() {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(
                !help.is_empty(),
                "{} --{:?} has no description",
                sub.get_name(),
                arg.get_long()
            );
            assert!(!help.contains('\n'), "{:?}: one line", arg.get_long());
        }
    }
}

/// The number of files `record --dry-run` plans for the 30 s sample under the given settings.
fn planned(config: Option<&Path>, env: Option<&str>, flag: Option<&str>) -> usize {
    let mut c = kls_rec();
    c.args(["record", "--dry-run", "--formats", "flv"]);
    c.arg(testdata("studio-1764072000.flv"));
    if let Some(f) = config {
        c.arg("--config").arg(f);
    }
    if let Some(e) = env {
        c.env("KLS_REC_SLICE", e);
    }
    if let Some(f) = flag {
        c.args(["--slice", f]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().lines().count()
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let dir = scratch("cli-precedence");
    let config = dir.join("kls-rec.toml");
    std::fs::write(
        &config,
        "slice = \"10s\"\nsplice_window = \"1m\"\nformats = [\"flv\"]\n",
    )
    .unwrap();
    assert_eq!(planned(None, None, None), 1, "default 6h: one file");
    assert_eq!(planned(Some(&config), None, None), 3, "file: 10 s slices");
    assert_eq!(
        planned(Some(&config), Some("15s"), None),
        2,
        "env beats file"
    );
    assert_eq!(
        planned(Some(&config), Some("15s"), Some("6h")),
        1,
        "flag beats env"
    );
}

#[test]
fn a_bad_config_file_is_a_usage_error() {
    let dir = scratch("cli-badconfig");
    let config = dir.join("bad.toml");
    std::fs::write(&config, "slise = \"10s\"\n").unwrap();
    let out = kls_rec()
        .args(["record", "x.flv", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown setting 'slise'"));
}

#[test]
fn the_example_config_parses() {
    let out = kls_rec()
        .args([
            "record",
            "--dry-run",
            "--config",
            "scripts/kls-rec.example.toml",
        ])
        .arg(testdata("studio-1764072000.flv"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The man page and completions are generated from the clap definition and committed; this
/// fails when they are stale. Regenerate with `REGENERATE_DOCS=1 cargo test --test cli`.
#[test]
fn man_page_and_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut wanted: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
    let cmd = command();
    for (name, page) in man::pages(&cmd) {
        wanted.push((root.join(name), page));
    }
    for (shell, file) in [
        (clap_complete::Shell::Bash, "kls-rec.bash"),
        (clap_complete::Shell::Zsh, "_kls-rec"),
        (clap_complete::Shell::Fish, "kls-rec.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "kls-rec", &mut buf);
        wanted.push((root.join("completions").join(file), buf));
    }
    let regenerate = std::env::var_os("REGENERATE_DOCS").is_some();
    for (path, bytes) in wanted {
        if regenerate {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else {
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == bytes,
                "{} is stale: run REGENERATE_DOCS=1 cargo test --test cli",
                path.display()
            );
        }
    }
}

/// On a terminal (a pty made by `script`) a progress bar is drawn on stderr; piped, nothing is.
#[test]
fn progress_bar_on_a_terminal_only() {
    let dir = scratch("cli-progress");
    let input = testdata("studio-1764072000.flv");
    let cmd = format!(
        "{} record --formats flv -o {} {}",
        env!("CARGO_BIN_EXE_kls-rec"),
        dir.join("tty").display(),
        input.display()
    );
    let tty = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    assert!(
        tty.status.success(),
        "{:?}: {} {}",
        tty.status,
        String::from_utf8_lossy(&tty.stdout),
        String::from_utf8_lossy(&tty.stderr)
    );
    let screen = String::from_utf8_lossy(&tty.stdout);
    // The bar's "done/total rate" text; callbacks never contain "KiB/".
    assert!(
        screen.contains("KiB/") && screen.contains("B/s"),
        "no bar on a terminal: {screen}"
    );

    let piped = kls_rec()
        .args(["record", "--formats", "flv", "-o"])
        .arg(dir.join("piped"))
        .arg(&input)
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );

    let quiet = Command::new("script")
        .args(["-qec", &format!("{cmd} --quiet"), "/dev/null"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(
        !String::from_utf8_lossy(&quiet.stdout).contains("KiB/"),
        "--quiet draws no bar"
    );
}

/// Runs a shell command line under a pseudo-terminal (`script`, from the repository root) and
/// returns what a terminal shows, one entry per line: the bar's redraws (`\r`, erase line)
/// overwrite each other, so only the text after a line's last erase is visible.
fn on_a_terminal(line: &str) -> (std::process::ExitStatus, String, Vec<String>) {
    let out = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("KLS_REC_QUIET")
        .output()
        .expect("script(1) from util-linux");
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines = screen
        .split('\n')
        .map(|l| {
            let visible = l.rsplit("\x1b[2K").next().unwrap_or_default();
            visible.trim_end_matches('\r').to_string()
        })
        .filter(|l| !l.is_empty())
        .collect();
    (out.status, screen, lines)
}

/// The README's `--explain` transcript, line by line.
fn readme_explain_lines() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = "$ kls-rec record testdata/push/*.flv --formats flv --explain -o out\n";
    let transcript = readme.split(marker).nth(1).unwrap();
    let transcript = transcript.split("```").next().unwrap();
    transcript.lines().map(str::to_string).collect()
}

/// With the bar drawn, `record --explain` and `inspect --rules` show the README's transcript
/// lines whole and in order, and a warning of a single input stays on the screen.
#[test]
fn explain_and_warnings_read_whole_under_the_bar() {
    let dir = scratch("cli-pty-explain");
    let bin = env!("CARGO_BIN_EXE_kls-rec");
    let want = readme_explain_lines();
    for line in [
        format!(
            "{bin} record testdata/push/*.flv --formats flv --explain -o {}",
            dir.join("out").display()
        ),
        format!("{bin} inspect --rules testdata/push/*.flv --formats flv"),
    ] {
        let (status, screen, lines) = on_a_terminal(&line);
        assert!(status.success(), "{line}: {status:?}\n{screen}");
        assert!(screen.contains("KiB/"), "{line}: no bar drawn:\n{screen}");
        let explained: Vec<String> = lines
            .into_iter()
            .filter(|l| l.starts_with("live/show"))
            .collect();
        assert_eq!(explained, want, "{line}:\n{screen}");
    }
    let line = format!(
        "{bin} record - --stream cam --formats flv --color never -o {} < testdata/studio-1764072000.flv",
        dir.join("stdin").display()
    );
    let (status, screen, lines) = on_a_terminal(&line);
    assert!(status.success(), "{screen}");
    assert!(screen.contains(" B/s"), "no bar drawn:\n{screen}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warning: ") && l.contains("no --start-time")),
        "the warning was wiped:\n{screen}"
    );
}

/// A warning of an input's probing names the input once, as `inspect` prints it: a file with
/// no time in its name, of each kind whose wall clock comes from its modification time.
#[test]
fn probing_warnings_name_their_input_once() {
    let dir = scratch("cli-warnings");
    for (fixture, name) in [
        ("studio-1764072000.flv", "studio.flv"),
        ("ts/tracks/twovideo-1764072000.ts", "cam.ts"),
        ("rtmp/show-1764075600.rtmp", "show.rtmp"),
    ] {
        let input = dir.join(name);
        std::fs::copy(testdata(fixture), &input).unwrap();
        let out = kls_rec()
            .args(["record", "--dry-run", "-q", "-o"])
            .arg(dir.join("out"))
            .arg(&input)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let path = input.display().to_string();
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .collect();
        assert!(
            warnings.iter().any(|w| w.contains("no --start-time")),
            "{name}: {stderr}"
        );
        for w in warnings {
            assert!(
                w.starts_with(&format!("warning: {path}: ")) && w.matches(&path).count() == 1,
                "{name}: {w}"
            );
        }
    }
}

/// Every unusable setting is a usage error (status 2) found before any work: nothing is
/// written, not even the output root.
#[test]
fn usage_errors_exit_2_before_any_work() {
    let dir = scratch("cli-usage");
    let input = testdata("studio-1764072000.flv");
    // (command, flags, environment, what the message must name)
    type Case<'a> = (&'a str, &'a [&'a str], Option<(&'a str, &'a str)>, &'a str);
    let cases: &[Case] = &[
        ("record", &["--slice", "0"], None, "--slice"),
        ("record", &["--slice", "1e3"], None, "--slice"),
        ("record", &["--hls-segment", "0"], None, "--hls-segment"),
        ("record", &["--callback", "notaurl"], None, "--callback"),
        ("record", &["--upload", "http://x"], None, "--upload"),
        ("record", &["--endpoint", "notaurl"], None, "--endpoint"),
        ("record", &["--timeline", "t.png"], None, "--timeline"),
        (
            "record",
            &["--start-time", "2026-02-31T00:00:00Z"],
            None,
            "--start-time",
        ),
        (
            "record",
            &[],
            Some(("KLS_REC_QUIET", "maybe")),
            "KLS_REC_QUIET",
        ),
        (
            "record",
            &[],
            Some(("KLS_REC_SLICE", "1e3")),
            "KLS_REC_SLICE",
        ),
        (
            "record",
            &[],
            Some(("KLS_REC_TIMELINE", "t.png")),
            "KLS_REC_TIMELINE",
        ),
        (
            "inspect",
            &["--rules", "--timeline", "t.png"],
            None,
            "--timeline",
        ),
        ("inspect", &["--timeline", "t.svg"], None, "--rules"),
        ("splice", &["--hls-segment", "0"], None, "--hls-segment"),
    ];
    for (i, (sub, args, env, named)) in cases.iter().enumerate() {
        let out_dir = dir.join(format!("case{i}"));
        let mut c = kls_rec();
        c.arg(sub).args(*args).arg(&input).current_dir(&dir);
        if *sub != "inspect" {
            c.arg("-o").arg(&out_dir);
        }
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("{sub} {args:?} {env:?}");
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(named), "{what}: names {named}: {stderr}");
        assert!(!out_dir.exists(), "{what}: wrote {}", out_dir.display());
        assert!(!dir.join("t.svg").exists() && !dir.join("t.png").exists());
    }
}

/// On/off settings from the environment take 1/0, true/false, yes/no in any case.
#[test]
fn switches_from_the_environment() {
    let dir = scratch("cli-switches");
    for (i, (value, dry)) in [
        ("1", true),
        ("true", true),
        ("YES", true),
        ("0", false),
        ("False", false),
        ("no", false),
    ]
    .into_iter()
    .enumerate()
    {
        let out_dir = dir.join(format!("v{i}"));
        let out = kls_rec()
            .args(["record", "--formats", "flv", "-o"])
            .arg(&out_dir)
            .arg(testdata("studio-1764072000.flv"))
            .env("KLS_REC_DRY_RUN", value)
            .env("KLS_REC_QUIET", value)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{value}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            !out_dir.join("record").exists(),
            dry,
            "KLS_REC_DRY_RUN={value}"
        );
    }
}

/// With `--json`, stdout holds JSON only (`| jq .` parses it): the dry-run plan is in the
/// summary, the decisions of `inspect --rules` on stderr.
#[test]
fn json_runs_print_only_json() {
    let pushes = [
        "testdata/push/show-1764075600.flv",
        "testdata/push/show-1764075670.flv",
        "testdata/push/show-1764075980.flv",
    ];
    for args in [
        &["record", "--dry-run", "--json", "--formats", "hls,flv"][..],
        &["inspect", "--rules", "--json", "--formats", "flv"][..],
    ] {
        let out = kls_rec()
            .args(args)
            .args(pushes)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        let files = v["summary"]["files"].as_array().unwrap();
        assert_eq!(files.len(), if args[0] == "record" { 4 } else { 2 }, "{v}");
    }
}

/// A reader that stops early (`kls-rec inspect … | head -1`) ends kls-rec quietly, with status
/// 0 as ripgrep does.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let mut child = kls_rec()
        .arg("inspect")
        .args(std::iter::repeat_n(testdata("studio-1764072000.flv"), 200))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("FLV"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The man pages refer only to pages that exist, and each has the sections a reader looks for.
#[test]
fn man_pages_refer_to_pages_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "1") {
            pages.push(path);
        }
    }
    assert!(pages.len() >= 4, "{pages:?}");
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for section in [
            "SYNOPSIS",
            "ENVIRONMENT",
            "FILES",
            "EXIT STATUS",
            "SEE ALSO",
        ] {
            assert!(
                text.contains(&format!(".SH \"{section}\""))
                    || text.contains(&format!(".SH {section}\n")),
                "{}: no {section} section",
                page.display()
            );
        }
        // `.BR name (1)` and inline `name(1)`, with roff's escaped hyphens.
        let unescaped = text.replace("\\-", "-");
        let mut refs = Vec::new();
        for line in unescaped.lines() {
            if let Some(rest) = line.strip_prefix(".BR ") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(sec)) = (words.next(), words.next())
                    && sec.starts_with("(1)")
                {
                    refs.push(name.trim_matches('"').to_string());
                }
            }
            for (i, _) in line.match_indices("(1)") {
                let name: String = line[..i]
                    .chars()
                    .rev()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if !name.is_empty() {
                    refs.push(name);
                }
            }
        }
        assert!(
            !refs.is_empty(),
            "{}: no SEE ALSO references",
            page.display()
        );
        for r in refs {
            assert!(
                root.join(format!("{r}.1")).exists(),
                "{} refers to {r}(1), which does not exist",
                page.display()
            );
        }
    }
    let record = std::fs::read_to_string(root.join("kls-rec-record.1")).unwrap();
    let synopsis = record
        .split(".SH SYNOPSIS")
        .nth(1)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap();
    assert!(
        synopsis.starts_with("\\fBkls\\-rec record\\fR"),
        "{synopsis}"
    );
    assert!(
        synopsis.contains("\\fIDURATION\\fR"),
        "value names: {synopsis}"
    );
    assert!(record.contains("KLS_REC_SLICE"), "environment notes");
}

/// A re-run with other settings into the same root reports the conflicting file once (no
/// follow-on "no packets" for the format that could not be written), and the other formats'
/// files are complete under their right names.
#[test]
fn a_rerun_with_other_settings_reports_the_conflict_once() {
    let dir = scratch("cli-rerun-conflict");
    let input = testdata("studio-1764072000.flv");
    let run = |extra: &[&str]| {
        kls_rec()
            .args(["record", "-o"])
            .arg(&dir)
            .arg(&input)
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run(&["--formats", "hls"]).status.success());
    let out = run(&["--formats", "hls,flv", "--hls-segment", "4s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("already exists with different content"),
        "{stderr}"
    );
    assert!(
        dir.join("record/live/studio/flv/studio-1764072000-1764072030.flv")
            .exists()
    );
    kls_rec::testutil::assert_no_temporaries(&dir);
}

/// `--wait` waits for the run holding the output root instead of failing at once.
#[test]
fn wait_for_a_locked_output_root() {
    let dir = scratch("cli-wait");
    let lock = kls_rec::deliver::OutputLock::acquire(&dir, false).unwrap();
    let record = |extra: &[&str]| {
        let mut c = kls_rec();
        c.args(["record", "--formats", "flv", "-o"])
            .arg(&dir)
            .arg(testdata("studio-1764072000.flv"))
            .args(extra);
        c
    };
    let busy = record(&[]).output().unwrap();
    assert_eq!(busy.status.code(), Some(1));
    let mut waiting = record(&["--wait"]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(waiting.try_wait().unwrap().is_none(), "did not wait");
    drop(lock);
    assert!(waiting.wait().unwrap().success());
    assert!(!kls_rec::testutil::recording_files(&dir).is_empty());
}

/// `--version` names the git revision it was built from, where git could tell.
#[test]
fn version_names_the_git_revision() {
    let out = kls_rec().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = concat!("kls-rec ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(want), "{text}");
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match rev {
        Ok(r) if r.status.success() => {
            let rev = String::from_utf8(r.stdout).unwrap();
            assert_eq!(text.trim(), format!("{want} (rev {})", rev.trim()));
        }
        _ => eprintln!("no git here: the version alone ({text})"),
    }
}

/// `-v` adds a line per input and per file, `-qq` drops warnings, and the prefixes are coloured
/// only when asked or on a terminal without NO_COLOR.
#[test]
fn verbosity_and_colour_of_messages() {
    let dir = scratch("cli-verbosity");
    // No Unix time in the name: a warning says how the wall clock was guessed.
    let input = dir.join("nostamp.flv");
    std::fs::copy(testdata("studio-1764072000.flv"), &input).unwrap();
    let stderr = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = kls_rec();
        c.args(["record", "--dry-run", "--formats", "flv"])
            .arg(&input)
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let plain = stderr(&[], &[]);
    assert!(
        plain.starts_with("warning: ") && !plain.contains('\x1b'),
        "{plain}"
    );
    assert!(!stderr(&["-qq"], &[]).contains("warning"));
    assert!(!stderr(&[], &[("KLS_REC_QUIET", "2")]).contains("warning"));
    assert!(
        stderr(&["-q"], &[]).contains("warning"),
        "-q keeps warnings"
    );
    let verbose = stderr(&["-v"], &[]);
    assert!(
        verbose.contains("reading ") && verbose.contains("nostamp.flv"),
        "{verbose}"
    );
    let coloured = stderr(&["--color", "always"], &[]);
    assert!(
        coloured.starts_with("\x1b[1;33mwarning:\x1b[0m "),
        "{coloured:?}"
    );
    assert!(!stderr(&["--color", "never"], &[]).contains('\x1b'));
    let written = kls_rec()
        .args(["record", "-v", "--formats", "flv", "-o"])
        .arg(dir.join("out"))
        .arg(testdata("studio-1764072000.flv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&written.stderr);
    assert!(
        text.contains("wrote record/live/studio/flv/studio-1764072000-1764072030.flv"),
        "{text}"
    );

    let bin = env!("CARGO_BIN_EXE_kls-rec");
    let line = format!("{bin} record --dry-run --formats flv {}", input.display());
    let (_, screen, _) = on_a_terminal(&line);
    assert!(
        screen.contains("\x1b[1;33mwarning:"),
        "auto colours on a terminal"
    );
    let (_, screen, _) = on_a_terminal(&format!("NO_COLOR=1 {line}"));
    assert!(!screen.contains("\x1b[1;33m"), "NO_COLOR");
}

/// The bar covers the whole run (`[k/n]` pushes), and for stdin, whose size is unknown, it is a
/// spinner with bytes and no ETA.
#[test]
fn progress_over_many_inputs_and_on_stdin() {
    let dir = scratch("cli-progress-run");
    let bin = env!("CARGO_BIN_EXE_kls-rec");
    let (status, screen, _) = on_a_terminal(&format!(
        "{bin} record --formats flv -j 1 -o {} testdata/push/*.flv",
        dir.join("many").display()
    ));
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains("[3/3] testdata/push/show-1764075980"),
        "{screen}"
    );
    let (status, screen, _) = on_a_terminal(&format!(
        "cat testdata/studio-1764072000.flv | {bin} record - --stream s --start-time 1 \
         --formats flv -o {}",
        dir.join("stdin").display()
    ));
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains("KiB") && !screen.contains(" eta "),
        "{screen}"
    );
}

/// A local directory is every file under it, recursively, in name order: the same plan as the
/// files named one by one; hidden files are skipped.
#[test]
fn a_directory_is_its_files() {
    let dir = scratch("cli-directory");
    let pushes = [
        "show-1764075600.flv",
        "show-1764075670.flv",
        "show-1764075980.flv",
    ];
    for (sub, name) in ["a", "b", "b/c"].iter().zip(pushes) {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::copy(testdata(&format!("push/{name}")), dir.join(sub).join(name)).unwrap();
    }
    std::fs::write(dir.join(".kls-rec.lock"), b"").unwrap();
    let plan = |inputs: Vec<std::path::PathBuf>| {
        let out = kls_rec()
            .args(["record", "--dry-run", "--json", "--formats", "flv"])
            .args(&inputs)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["summary"]["files"].clone()
    };
    let by_name = plan(
        ["a", "b", "b/c"]
            .iter()
            .zip(pushes)
            .map(|(sub, name)| dir.join(sub).join(name))
            .collect(),
    );
    assert_eq!(plan(vec![dir.clone()]), by_name);
    assert_eq!(by_name.as_array().unwrap().len(), 2);
    let inspected = kls_rec().arg("inspect").arg(&dir).output().unwrap();
    assert!(inspected.status.success());
    assert_eq!(
        String::from_utf8_lossy(&inspected.stdout)
            .matches(": FLV,")
            .count(),
        3
    );
}
