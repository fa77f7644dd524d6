//! A TOML file as a source of settings (`--config FILE`): keys are the flags' long names
//! (`max-clients`, or `max_clients`), top-level keys set the server's flags and a table named
//! after a subcommand sets that subcommand's (`[bots]`, `[netsim]`).
//!
//! The whole file is checked against the command before anything runs: an unknown key, a
//! value of the wrong TOML type, or one its flag's own parser refuses is an error naming the
//! file, the line and the key. Values become the strings clap parses, so a setting means the
//! same in the file as on the command line.

use clap::{Arg, ArgAction, Command};
use std::any::TypeId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml_edit::{Document, Item, Table, Value};

/// A flag's value as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// A switch (`agones = true`).
    Switch(bool),
    /// One value, or each of a repeatable flag's, as text for the flag's parser.
    Values(Vec<String>),
}

/// The file, checked: its values by subcommand path (empty: the top level).
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// Where it was read from.
    pub path: PathBuf,
    tables: BTreeMap<Vec<String>, Vec<(String, Given)>>,
}

impl FileSettings {
    /// The values the file sets for the flags of the subcommand at `path` (long name, value).
    pub fn values(&self, path: &[String]) -> &[(String, Given)] {
        self.tables.get(path).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Why a file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not readable.
    #[error("config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not TOML.
    #[error("config file {}: not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Keys or values that fit no flag, one line each.
    #[error("config file {}:\n  {}", path.display(), problems.join("\n  "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, each with its line and key.
        problems: Vec<String>,
    },
}

/// Reads `path` and checks it against `cmd`; `shared` names the subcommands whose flags are
/// the top level's (their keys are top-level keys). `reserved` flags (`--config` itself)
/// cannot be set from a file.
pub fn read(
    path: &Path,
    cmd: &Command,
    shared: &[&str],
    reserved: &[&str],
) -> Result<FileSettings, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| FileError::Read { path: path.to_owned(), source })?;
    let doc: Document<String> = text.parse().map_err(|e: toml_edit::TomlError| {
        FileError::Syntax { path: path.to_owned(), message: e.to_string().trim().to_owned() }
    })?;
    let mut check =
        Check { text: &text, shared, reserved, problems: Vec::new(), tables: BTreeMap::new() };
    check.table(doc.as_table(), cmd, &[]);
    if !check.problems.is_empty() {
        return Err(FileError::Invalid { path: path.to_owned(), problems: check.problems });
    }
    Ok(FileSettings { path: path.to_owned(), tables: check.tables })
}

struct Check<'a> {
    text: &'a str,
    shared: &'a [&'a str],
    reserved: &'a [&'a str],
    problems: Vec<String>,
    tables: BTreeMap<Vec<String>, Vec<(String, Given)>>,
}

impl Check<'_> {
    fn table(&mut self, table: &Table, cmd: &Command, path: &[String]) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (key, item) in table.iter() {
            let at = self.line(table.key(key).and_then(|k| k.span()));
            let name = key.replace('_', "-");
            if let Some(first) = seen.insert(name.clone(), key.to_owned()) {
                self.problems.push(format!("{at}key `{key}` repeats `{first}`"));
                continue;
            }
            let sub = cmd.find_subcommand(&name).filter(|_| !self.shared.contains(&name.as_str()));
            match (sub, item.as_table_like()) {
                (Some(sub), Some(_)) => {
                    let Some(inner) = item.as_table() else {
                        self.problems.push(format!("{at}[{name}] must be a table section"));
                        continue;
                    };
                    let path = [path, std::slice::from_ref(&name)].concat();
                    self.table(inner, sub, &path);
                }
                _ => self.key(&at, key, &name, item, cmd, path),
            }
        }
    }

    fn key(
        &mut self,
        at: &str,
        key: &str,
        name: &str,
        item: &Item,
        cmd: &Command,
        path: &[String],
    ) {
        let arg = flag(cmd, name, path.is_empty().then_some(self.shared));
        let Some(arg) = arg.filter(|a| !self.reserved.contains(&a.get_id().as_str())) else {
            let section =
                if path.is_empty() { String::new() } else { format!(" in [{}]", path.join(".")) };
            self.problems.push(format!("{at}unknown key `{key}`{section}: no flag --{name}"));
            return;
        };
        match given(arg, item) {
            Ok(value) => match validate(arg, &value) {
                Ok(()) => {
                    self.tables.entry(path.to_vec()).or_default().push((name.to_owned(), value))
                }
                Err(e) => self.problems.push(format!("{at}key `{key}`: {e}")),
            },
            Err(expected) => {
                let found = item.type_name();
                self.problems.push(format!("{at}key `{key}`: expected {expected}, found {found}"));
            }
        }
    }

    fn line(&self, span: Option<std::ops::Range<usize>>) -> String {
        let Some(span) = span else { return String::new() };
        let line = self.text[..span.start.min(self.text.len())].matches('\n').count() + 1;
        format!("line {line}: ")
    }
}

/// The settable flag `--name` of `cmd`, or of one of its `shared` subcommands.
fn flag<'c>(cmd: &'c Command, name: &str, shared: Option<&[&str]>) -> Option<&'c Arg> {
    let own = cmd.get_arguments().filter(|a| super::env::settable(a));
    let subs =
        cmd.get_subcommands().filter(|s| shared.is_some_and(|sh| sh.contains(&s.get_name())));
    let theirs = subs.flat_map(|s| s.get_arguments()).filter(|a| super::env::settable(a));
    own.chain(theirs).find(|a| a.get_long() == Some(name))
}

/// What TOML type a flag takes.
#[derive(Clone, Copy)]
enum Kind {
    Switch,
    Integer,
    Float,
    Text,
}

fn kind(arg: &Arg) -> Kind {
    if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
        return Kind::Switch;
    }
    let t = arg.get_value_parser().type_id();
    let integers = [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<isize>(),
    ];
    if integers.iter().any(|i| t == *i) {
        Kind::Integer
    } else if t == TypeId::of::<f32>() || t == TypeId::of::<f64>() {
        Kind::Float
    } else if t == TypeId::of::<bool>() {
        Kind::Switch
    } else {
        Kind::Text
    }
}

/// The item as the flag's value, or what TOML type was expected.
fn given(arg: &Arg, item: &Item) -> Result<Given, &'static str> {
    let kind = kind(arg);
    let repeated = matches!(arg.get_action(), ArgAction::Append);
    match (kind, repeated) {
        (Kind::Switch, _) => item.as_bool().map(Given::Switch).ok_or("a boolean"),
        (_, false) => {
            let value = item.as_value().and_then(|v| scalar(kind, v));
            value.map(|v| Given::Values(vec![v])).ok_or(expected(kind, false))
        }
        (_, true) => {
            let array = item.as_array().ok_or(expected(kind, true))?;
            let values: Option<Vec<String>> = array.iter().map(|v| scalar(kind, v)).collect();
            values.map(Given::Values).ok_or(expected(kind, true))
        }
    }
}

fn scalar(kind: Kind, value: &Value) -> Option<String> {
    match kind {
        Kind::Integer => value.as_integer().map(|i| i.to_string()),
        Kind::Float => {
            value.as_float().or(value.as_integer().map(|i| i as f64)).map(|f| f.to_string())
        }
        Kind::Text => value.as_str().map(str::to_owned),
        Kind::Switch => value.as_bool().map(|b| b.to_string()),
    }
}

fn expected(kind: Kind, repeated: bool) -> &'static str {
    match (kind, repeated) {
        (Kind::Integer, false) => "an integer",
        (Kind::Float, false) => "a number",
        (Kind::Integer | Kind::Float, true) => "an array of numbers",
        (_, false) => "a string",
        (_, true) => "an array of strings",
    }
}

/// Runs each value through the flag's own parser, so a bad duration or address in the file
/// is refused up front with the parser's own words.
fn validate(arg: &Arg, value: &Given) -> Result<(), String> {
    let Given::Values(values) = value else { return Ok(()) };
    let long = arg.get_long().unwrap_or_default().to_owned();
    let value_name =
        arg.get_value_names().and_then(|n| n.first()).map_or("VALUE".into(), |n| n.to_string());
    let probe = Command::new("tickwire")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("value")
                .long(long.clone())
                .value_name(value_name)
                .value_parser(arg.get_value_parser().clone())
                .action(ArgAction::Set)
                .allow_hyphen_values(true),
        );
    for value in values {
        if let Err(e) = probe.clone().try_get_matches_from([format!("--{long}={value}")]) {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            return Err(first.trim_start_matches("error: ").to_owned());
        }
    }
    Ok(())
}
