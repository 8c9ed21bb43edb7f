//! The man pages, generated from the clap definition: one page for `kls-rec` and one per
//! command (`kls-rec-record(1)` …), each with a synopsis of the real command line and its value
//! names, the options with their environment variables, and ENVIRONMENT, FILES, EXIT STATUS and
//! SEE ALSO sections. Only pages that exist are referred to.

use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use kls_rec::cli::other_environment;

/// `(file name, page)` for every page.
pub fn pages(cmd: &clap::Command) -> Vec<(String, Vec<u8>)> {
    let subs: Vec<&clap::Command> = commands(cmd);
    let mut pages = vec![("kls-rec.1".to_string(), page(cmd, None, &subs))];
    for sub in &subs {
        let name = format!("kls-rec-{}.1", sub.get_name());
        pages.push((name, page(sub, Some(cmd), &subs)));
    }
    pages
}

/// The commands that have a page (`help` is clap's own and has none).
fn commands(cmd: &clap::Command) -> Vec<&clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .collect()
}

fn page(cmd: &clap::Command, parent: Option<&clap::Command>, subs: &[&clap::Command]) -> Vec<u8> {
    let (page_name, shown_name) = match parent {
        Some(p) => (
            format!("{}-{}", p.get_name(), cmd.get_name()),
            format!("{} {}", p.get_name(), cmd.get_name()),
        ),
        None => (cmd.get_name().to_string(), cmd.get_name().to_string()),
    };
    // The package version, not `--version`'s (which names the git revision).
    let version = env!("CARGO_PKG_VERSION");
    let man = Man::new(cmd.clone().name(page_name.clone().leak() as &str))
        .title(page_name.to_uppercase())
        .source(format!("kls-rec {version}"))
        .manual("kls-rec manual");
    let mut out = Vec::new();
    let mut chunk = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut bytes = Vec::new();
        render(&mut bytes).unwrap();
        append(&mut out, &bytes);
    };
    chunk(&|w| man.render_title(w));
    chunk(&|w| man.render_name_section(w));
    chunk(&|w| synopsis(cmd, &shown_name).to_writer(w));
    chunk(&|w| man.render_description_section(w));
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        chunk(&|w| man.render_options_section(w));
    }
    if parent.is_none() {
        chunk(&|w| commands_section(subs).to_writer(w));
    }
    chunk(&|w| environment(cmd, subs, parent.is_none()).to_writer(w));
    chunk(&|w| files_section().to_writer(w));
    chunk(&|w| exit_status(cmd).to_writer(w));
    chunk(&|w| see_also(&page_name, subs).to_writer(w));
    out
}

/// Appends a rendered piece, without the string definitions every piece starts with after the
/// first.
fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let body: String = if out.is_empty() {
        text.into_owned()
    } else {
        text.lines()
            .filter(|l| !l.starts_with(".ie \\n(.g .ds Aq") && !l.starts_with(".el .ds Aq"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    out.extend_from_slice(body.as_bytes());
}

/// `kls-rec record [-o|--out-dir DIR] … INPUT...`: the command as typed, with value names.
fn synopsis(cmd: &clap::Command, shown_name: &str) -> Roff {
    let mut line: Vec<Inline> = vec![bold(shown_name), roman(" ")];
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if arg.is_positional() {
            continue;
        }
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("-{s}|--{l}"),
            (None, Some(l)) => format!("--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, None) => continue,
        };
        line.push(roman("["));
        line.push(bold(flag));
        if arg.get_action().takes_values() {
            let value = arg
                .get_value_names()
                .map(|v| v.join(" "))
                .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
            line.push(roman(" "));
            line.push(italic(value));
        }
        line.push(roman("] "));
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let value = arg
            .get_value_names()
            .map(|v| v.join(" "))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        line.push(italic(value));
        line.push(roman(if many { "... " } else { " " }));
    }
    if cmd.has_subcommands() {
        line.push(italic("COMMAND"));
        line.push(roman(" [OPTIONS]"));
    }
    let mut roff = Roff::default();
    roff.control("SH", ["SYNOPSIS"]);
    roff.text(line);
    roff
}

fn commands_section(subs: &[&clap::Command]) -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["COMMANDS"]);
    for sub in subs {
        roff.control("TP", []);
        roff.control(
            "BR",
            [format!("kls-rec-{}", sub.get_name()).as_str(), "(1)"],
        );
        roff.text([roman(
            sub.get_about().map(|a| a.to_string()).unwrap_or_default(),
        )]);
    }
    roff
}

/// Every variable the command reads: its flags' `KLS_REC_*` (all commands' on the main page)
/// and those that are not flags.
fn environment(cmd: &clap::Command, subs: &[&clap::Command], main_page: bool) -> Roff {
    let mut vars: Vec<(String, String)> = Vec::new();
    let sources: Vec<&clap::Command> = if main_page { subs.to_vec() } else { vec![cmd] };
    for c in sources {
        for a in c.get_arguments() {
            let (Some(env), Some(long)) = (a.get_env(), a.get_long()) else {
                continue;
            };
            let env = env.to_string_lossy().into_owned();
            if !vars.iter().any(|(v, _)| *v == env) {
                vars.push((env, format!("The setting of --{long}.")));
            }
        }
    }
    for (var, meaning) in other_environment() {
        vars.push((var.to_string(), meaning.to_string()));
    }
    let mut roff = Roff::default();
    roff.control("SH", ["ENVIRONMENT"]);
    roff.text([roman(
        "Flags win over the environment, the environment over a --config file. On/off \
         variables take 1/0, true/false or yes/no.",
    )]);
    for (var, meaning) in vars {
        roff.control("TP", []);
        roff.text([bold(var)]);
        roff.text([roman(meaning)]);
    }
    roff
}

fn files_section() -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["FILES"]);
    for (path, meaning) in kls_rec::cli::files() {
        roff.control("TP", []);
        roff.text([italic(path)]);
        roff.text([roman(meaning)]);
    }
    roff
}

/// The exit statuses as `--help` lists them ("Exit status: 0 success; 1 failure …").
fn exit_status(cmd: &clap::Command) -> Roff {
    let help = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let text = help.replace('\n', " ");
    let text = text.trim_start_matches("Exit status:").trim();
    let mut roff = Roff::default();
    roff.control("SH", ["EXIT STATUS"]);
    // Items are "N meaning", separated by "; " (a ';' inside a meaning is kept).
    let mut items: Vec<String> = Vec::new();
    for piece in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        match items.last_mut() {
            Some(last) if !piece.starts_with(|c: char| c.is_ascii_digit()) => {
                last.push_str("; ");
                last.push_str(piece);
            }
            _ => items.push(piece.to_string()),
        }
    }
    for item in &items {
        let item = item.trim_end_matches('.');
        match item.split_once(' ') {
            Some((code, meaning)) if code.bytes().all(|b| b.is_ascii_digit()) => {
                roff.control("TP", []);
                roff.text([bold(code)]);
                roff.text([roman(meaning)]);
            }
            _ => {
                roff.text([roman(item)]);
            }
        }
    }
    roff
}

fn see_also(page_name: &str, subs: &[&clap::Command]) -> Roff {
    let mut names = vec!["kls-rec".to_string()];
    names.extend(subs.iter().map(|s| format!("kls-rec-{}", s.get_name())));
    names.retain(|n| n != page_name);
    let mut roff = Roff::default();
    roff.control("SH", ["SEE ALSO"]);
    let last = names.len().saturating_sub(1);
    for (i, n) in names.iter().enumerate() {
        let sep = if i == last { "(1)" } else { "(1)," };
        roff.control("BR", [n.as_str(), sep]);
    }
    roff
}
