//! How kls-rec's own messages reach stderr: which are kept (`-q`, `-qq`, `-v`) and whether
//! their `error:` and `warning:` prefixes are coloured (`--color`, `NO_COLOR`, only on a
//! terminal by default). Set once from the command line, read by every writer of messages.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::OnceLock;

/// `--color`: when the prefixes of kls-rec's messages are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set
    Auto,
    Always,
    Never,
}

/// What stderr shows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    /// Colour the `error:` and `warning:` prefixes.
    pub(crate) color: bool,
    /// Show `warning:` lines (off with `-qq`).
    pub(crate) warnings: bool,
    /// Show a line per input read and per file written, terminal or not (`-v`).
    pub(crate) verbose: bool,
}

static STYLE: OnceLock<Style> = OnceLock::new();

impl Style {
    /// From the flags: `quiet` and `verbose` count their repetitions.
    pub(crate) fn new(color: ColorChoice, quiet: u8, verbose: u8) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: match color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
            },
            warnings: quiet < 2,
            verbose: verbose > 0,
        }
    }

    /// Makes this the style of the process's messages (the first call wins).
    pub(crate) fn install(self) {
        let _ = STYLE.set(self);
    }

    /// The installed style; before [`Style::install`], plain messages, warnings shown.
    pub(crate) fn get() -> Style {
        STYLE.get().copied().unwrap_or(Style {
            color: false,
            warnings: true,
            verbose: false,
        })
    }

    /// `line` as it should appear (a complete line, newline included), or `None` when it is
    /// not shown at this level.
    pub(crate) fn render<'a>(&self, line: &'a str) -> Option<Cow<'a, str>> {
        const PREFIXES: [(&str, &str); 2] = [("error:", "\x1b[1;31m"), ("warning:", "\x1b[1;33m")];
        if !self.warnings && line.starts_with("warning:") {
            return None;
        }
        if !self.color {
            return Some(Cow::Borrowed(line));
        }
        for (prefix, colour) in PREFIXES {
            if let Some(rest) = line.strip_prefix(prefix) {
                return Some(Cow::Owned(format!("{colour}{prefix}\x1b[0m{rest}")));
            }
        }
        Some(Cow::Borrowed(line))
    }
}

/// Prints an error message (`error: …`) on stderr in the installed style.
pub(crate) fn error(message: &str) {
    let line = format!("error: {message}\n");
    if let Some(shown) = Style::get().render(&line) {
        eprint!("{shown}");
    }
}

/// The levels `-q`/`-v` take from the environment: a count (`0`, `1`, `2`), or `true`/`yes`
/// (1) and `false`/`no` (0) in any case, as on/off settings.
pub(crate) fn parse_level(s: &str) -> Result<u8, String> {
    if let Ok(on) = super::parse_switch(s) {
        return Ok(u8::from(on));
    }
    match s.trim().parse::<u8>() {
        Ok(n) if n <= 3 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a level (0 to 3, or 1/0, true/false, yes/no)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_colours() {
        let plain = Style {
            color: false,
            warnings: true,
            verbose: false,
        };
        assert_eq!(
            plain.render("warning: x\n").as_deref(),
            Some("warning: x\n")
        );
        let quiet = Style {
            warnings: false,
            ..plain
        };
        assert_eq!(quiet.render("warning: x\n"), None);
        assert_eq!(quiet.render("error: x\n").as_deref(), Some("error: x\n"));
        let coloured = Style {
            color: true,
            ..plain
        };
        assert_eq!(
            coloured.render("error: x\n").as_deref(),
            Some("\x1b[1;31merror:\x1b[0m x\n")
        );
        assert_eq!(
            coloured.render("live/show: x\n").as_deref(),
            Some("live/show: x\n")
        );
        for (s, n) in [("1", 1), ("2", 2), ("yes", 1), ("FALSE", 0), ("0", 0)] {
            assert_eq!(parse_level(s), Ok(n), "{s}");
        }
        assert!(parse_level("loud").is_err() && parse_level("9").is_err());
    }
}
