//! The environment as a source of settings: every long flag of a clap [`Command`] gets an
//! environment variable, `PREFIX_` plus the flag's long name in upper snake case
//! (`--max-clients` is `TICKWIRE_MAX_CLIENTS`). A subcommand's flags add its name
//! (`tickwire bots --clients` is `TICKWIRE_BOTS_CLIENTS`), except for the subcommands that
//! share the top level's flags (`serve`, `config`).
//!
//! This owns the naming only; clap reads the variables and ranks them below the command line.

use clap::builder::BoolishValueParser;
use clap::{Arg, ArgAction, Command};
use std::collections::BTreeSet;
use std::ffi::OsString;

/// The separator of a repeatable flag's values in its variable
/// (`TICKWIRE_ALLOWED_ORIGIN=https://a.example,https://b.example`).
pub const LIST_SEPARATOR: char = ',';

/// `cmd` with an environment variable on every long flag, in every subcommand.
///
/// Switches (`--agones`) read `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` from their
/// variable; repeatable flags split theirs on [`LIST_SEPARATOR`] (and so does the command
/// line, which no current value needs a comma in).
pub fn attach(cmd: Command, prefix: &str, shared: &[&str]) -> Command {
    let cmd = cmd.mut_args(|arg| decorate(arg, prefix));
    cmd.mut_subcommands(|sub| {
        let name = sub.get_name().to_owned();
        if shared.contains(&name.as_str()) {
            attach(sub, prefix, shared)
        } else {
            attach(sub, &format!("{prefix}{}_", upper_snake(&name)), shared)
        }
    })
}

/// The variable names `cmd` (as returned by [`attach`]) reads, in every subcommand.
pub fn names(cmd: &Command) -> BTreeSet<String> {
    let own = cmd.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into());
    let mut all: BTreeSet<String> = own.collect();
    for sub in cmd.get_subcommands() {
        all.extend(names(sub));
    }
    all
}

/// A warning for each variable in `vars` that starts with `prefix` but names no flag: a
/// misspelling should not go unnoticed, yet environments are shared, so it is no error.
pub fn unknown(
    known: &BTreeSet<String>,
    vars: impl Iterator<Item = (OsString, OsString)>,
    prefix: &str,
) -> Vec<String> {
    vars.filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with(prefix) && !known.contains(name))
        .map(|name| format!("environment variable {name} names no flag; ignored"))
        .collect()
}

/// `max-clients` → `MAX_CLIENTS`.
pub fn upper_snake(long: &str) -> String {
    long.replace('-', "_").to_ascii_uppercase()
}

/// Whether `arg` is one a user sets by name (not a positional, help or version).
pub fn settable(arg: &Arg) -> bool {
    let id = arg.get_id().as_str();
    !arg.is_positional() && arg.get_long().is_some() && id != "help" && id != "version"
}

fn decorate(arg: Arg, prefix: &str) -> Arg {
    let Some(long) = arg.get_long().filter(|_| settable(&arg)) else { return arg };
    let name = format!("{prefix}{}", upper_snake(long));
    let arg = match arg.get_action() {
        ArgAction::SetTrue => arg.value_parser(BoolishValueParser::new()),
        ArgAction::Append => arg.value_delimiter(LIST_SEPARATOR),
        _ => arg,
    };
    // `--help` shows each variable's name, never its value: it may hold a secret.
    arg.env(name).hide_env_values(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_subcommands() {
        let cmd = Command::new("t")
            .arg(Arg::new("max_clients").long("max-clients"))
            .subcommand(Command::new("serve").arg(Arg::new("bind").long("bind")))
            .subcommand(Command::new("bots").arg(Arg::new("clients").long("clients")));
        let names = names(&attach(cmd, "T_", &["serve"]));
        let expected = ["T_BIND", "T_BOTS_CLIENTS", "T_MAX_CLIENTS"];
        assert_eq!(names.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn unknown_variables_are_named() {
        let known = BTreeSet::from(["T_BIND".to_owned()]);
        let vars = [("T_BIND", "x"), ("T_BIDN", "x"), ("PATH", "/bin")]
            .map(|(n, v)| (OsString::from(n), OsString::from(v)));
        let warnings = unknown(&known, vars.into_iter(), "T_");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("T_BIDN"), "{warnings:?}");
    }
}
