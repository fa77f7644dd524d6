//! Settings from three sources besides the command line, for every flag of a clap
//! [`Command`], generically: the environment ([`mod@env`]), a TOML file ([`mod@file`]) and the
//! defaults. Precedence: command line > environment > file > default.
//!
//! Nothing here lists flags: [`load`] walks the command's arguments, so a flag added later
//! gets its variable and its key for free. The environment is clap's own `env` support; the
//! file's values are appended to the command line for the flags neither the command line nor
//! the environment set, so clap parses and checks them exactly as if typed, and flags that
//! require one another (`--tls-cert` and `--tls-key`) may come from different sources.
//! [`Loaded::effective`] reports each setting with where it came from, secrets masked
//! ([`report`]).

pub mod env;
pub mod file;
pub mod report;

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

pub use file::{FileError, FileSettings, Given};
pub use report::{Setting, Source};

/// How a binary names its settings.
#[derive(Debug, Clone, Copy)]
pub struct Naming {
    /// The environment variables' prefix, with its underscore (`TICKWIRE_`).
    pub env_prefix: &'static str,
    /// Subcommands whose flags are the top level's (`serve`, `config`): their variables
    /// and keys carry no subcommand name.
    pub shared: &'static [&'static str],
    /// The id of the flag that names the file (`config`); it cannot be set from the file.
    pub config_flag: &'static str,
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The command line (or a variable) did not parse; also `--help` and `--version`, which
    /// [`clap::Error::exit`] prints.
    #[error(transparent)]
    Cli(#[from] clap::Error),
    /// The file could not be used.
    #[error(transparent)]
    File(#[from] FileError),
    /// A variable's value was refused by its flag.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable.
        var: String,
        /// The flag's words (`invalid value 'x' for '--max-clients <COUNT>': ...`).
        message: String,
    },
}

/// The parsed command line, with what is needed to tell where each value came from.
#[derive(Debug)]
pub struct Loaded {
    /// Every setting, for `FromArgMatches`.
    pub matches: ArgMatches,
    /// Things worth a warning once logging is up (unknown variables).
    pub warnings: Vec<String>,
    command: Command,
    path: Vec<String>,
    file: Option<PathBuf>,
    /// Ids of the flags the file set.
    from_file: BTreeSet<String>,
}

/// Parses `argv` against `cmd` with the environment and the file named by the config flag.
pub fn load(
    cmd: Command,
    argv: impl IntoIterator<Item = OsString>,
    naming: Naming,
) -> Result<Loaded, SettingsError> {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let mut cmd = env::attach(cmd, naming.env_prefix, naming.shared);
    let known = env::names(&cmd);
    let warnings = env::unknown(&known, std::env::vars_os(), naming.env_prefix);
    let unbuilt = cmd.clone();
    // A first, forgiving pass finds the subcommand, the file and what is already set.
    let first = cmd.clone().ignore_errors(true).try_get_matches_from(&argv);
    let Ok(first) = first else {
        let matches = parse(&mut cmd, &argv)?;
        let path = subcommand_path(&matches);
        let (file, from_file) = (None, BTreeSet::new());
        return Ok(Loaded { matches, warnings, command: unbuilt, path, file, from_file });
    };
    let path = subcommand_path(&first);
    let leaf = leaf_matches(&first);
    let Some(config) = config_path(&first, naming.config_flag) else {
        let matches = parse(&mut cmd, &argv)?;
        let (file, from_file) = (None, BTreeSet::new());
        return Ok(Loaded { matches, warnings, command: unbuilt, path, file, from_file });
    };
    let settings = file::read(&config, &unbuilt, naming.shared, &[naming.config_flag])?;
    let leaf_cmd = leaf_command(&unbuilt, &path);
    let (tokens, from_file) = injected(&settings, &unbuilt, leaf_cmd, leaf, &path, naming);
    let argv: Vec<OsString> = argv.into_iter().chain(tokens).collect();
    let matches = parse(&mut cmd, &argv)?;
    Ok(Loaded { matches, warnings, command: unbuilt, path, file: Some(config), from_file })
}

impl Loaded {
    /// The subcommand that was chosen (`[]`: none, `["bots"]`).
    pub fn subcommand(&self) -> &[String] {
        &self.path
    }

    /// Every setting of the chosen subcommand, in the order of `--help`, with its value
    /// (secrets masked) and where the value came from.
    pub fn effective(&self) -> Vec<Setting> {
        let leaf = leaf_matches(&self.matches);
        let globals = self.command.get_arguments().filter(|a| a.is_global_set());
        let args = leaf_command(&self.command, &self.path).get_arguments().chain(globals);
        let mut seen = BTreeSet::new();
        let settable = args.filter(|a| env::settable(a) && seen.insert(a.get_id().to_string()));
        settable.map(|arg| report::setting(arg, leaf, self.source(arg, leaf))).collect()
    }

    fn source(&self, arg: &clap::Arg, leaf: &ArgMatches) -> Source {
        let id = arg.get_id().as_str();
        if let Some(file) = self.file.as_ref().filter(|_| self.from_file.contains(id)) {
            return Source::File(file.clone());
        }
        match value_source(leaf, id) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::EnvVariable) => {
                Source::Env(arg.get_env().map(|e| e.to_string_lossy().into()).unwrap_or_default())
            }
            _ => Source::Default,
        }
    }
}

/// Parses `argv`; a value refused that came from a variable (the flag is set, and not on the
/// command line) is an error naming the variable, which clap's own message does not.
fn parse(cmd: &mut Command, argv: &[OsString]) -> Result<ArgMatches, SettingsError> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let error = match cmd.try_get_matches_from_mut(argv) {
        Ok(matches) => return Ok(matches),
        Err(error) => error,
    };
    if !matches!(error.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        return Err(error.into());
    }
    let Some(ContextValue::String(invalid)) = error.get(ContextKind::InvalidArg) else {
        return Err(error.into());
    };
    let long = invalid.trim_start_matches("--").split([' ', '=']).next().unwrap_or_default();
    let typed = argv.iter().any(|a| {
        let a = a.to_string_lossy();
        a.strip_prefix("--")
            .is_some_and(|rest| rest == long || rest.starts_with(&format!("{long}=")))
    });
    let var = all_args(cmd)
        .into_iter()
        .filter(|a| a.get_long() == Some(long))
        .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
        .find(|var| std::env::var_os(var).is_some());
    match var.filter(|_| !typed) {
        Some(var) => {
            let text = error.to_string();
            let first = text.lines().next().unwrap_or_default();
            Err(SettingsError::Env { var, message: first.trim_start_matches("error: ").to_owned() })
        }
        None => Err(error.into()),
    }
}

/// Every argument of `cmd` and its subcommands.
fn all_args(cmd: &Command) -> Vec<&clap::Arg> {
    let mut args: Vec<&clap::Arg> = cmd.get_arguments().collect();
    for sub in cmd.get_subcommands() {
        args.extend(all_args(sub));
    }
    args
}

/// The command-line tokens that carry the file's values for the flags nothing else set,
/// and the ids of the flags the file set.
fn injected(
    settings: &FileSettings,
    root: &Command,
    leaf_cmd: &Command,
    leaf: &ArgMatches,
    path: &[String],
    naming: Naming,
) -> (Vec<OsString>, BTreeSet<String>) {
    let shared = path.is_empty() || naming.shared.contains(&path[0].as_str());
    let own = if shared { settings.values(&[]) } else { settings.values(path) };
    // A subcommand of its own also takes the top level's global flags (`--log-format`).
    let globals: Vec<&str> =
        root.get_arguments().filter(|a| a.is_global_set()).filter_map(|a| a.get_long()).collect();
    let inherited =
        settings.values(&[]).iter().filter(|(name, _)| !shared && globals.contains(&name.as_str()));
    let mut tokens = Vec::new();
    let mut ids = BTreeSet::new();
    for (name, given) in own.iter().chain(inherited) {
        let arg = leaf_cmd
            .get_arguments()
            .chain(root.get_arguments())
            .find(|a| a.get_long() == Some(name));
        let Some(arg) = arg else { continue };
        let id = arg.get_id().as_str();
        if matches!(
            value_source(leaf, id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        ids.insert(id.to_owned());
        match given {
            Given::Switch(true) => tokens.push(format!("--{name}").into()),
            Given::Switch(false) => {}
            Given::Values(values) => {
                tokens.extend(values.iter().map(|v| format!("--{name}={v}").into()))
            }
        }
    }
    (tokens, ids)
}

/// Where `id` got its value, if `matches` knows it at all (no panic on an unknown id).
fn value_source(matches: &ArgMatches, id: &str) -> Option<ValueSource> {
    matches.ids().any(|i| i.as_str() == id).then(|| matches.value_source(id)).flatten()
}

fn subcommand_path(matches: &ArgMatches) -> Vec<String> {
    let mut path = Vec::new();
    let mut at = matches;
    while let Some((name, sub)) = at.subcommand() {
        path.push(name.to_owned());
        at = sub;
    }
    path
}

fn leaf_matches(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) => leaf_matches(sub),
        None => matches,
    }
}

fn leaf_command<'c>(cmd: &'c Command, path: &[String]) -> &'c Command {
    path.iter().try_fold(cmd, |at, name| at.find_subcommand(name)).unwrap_or(cmd)
}

/// The config file named on the command line or in the environment, at any level.
fn config_path(matches: &ArgMatches, id: &str) -> Option<PathBuf> {
    let mut at = Some(matches);
    let mut found = None;
    while let Some(m) = at {
        if let Ok(Some(mut raw)) = m.try_get_raw(id) {
            found = raw.next().map(PathBuf::from).or(found);
        }
        at = m.subcommand().map(|(_, sub)| sub);
    }
    found
}
