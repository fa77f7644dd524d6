//! The effective configuration as `tickwire config` prints it: one line per setting with
//! its value and where the value came from, secrets masked.
//!
//! Masking is by rule, not by list of flags, so a flag added later is covered: a password
//! in any URL's user info (`redis://:PASS@host`) is masked, and so is the whole value of a
//! flag whose name says it holds a secret (`password`, `secret`, `token`) unless it ends in
//! `-file`: a file's path is no secret, its content is never read here.

use clap::{Arg, ArgAction, ArgMatches};
use std::fmt;
use std::path::PathBuf;

/// What a masked secret prints as.
pub const MASK: &str = "********";

/// Words in a flag's name that mark its value as a secret.
pub const SECRET_WORDS: &[&str] = &["password", "secret", "token"];

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The command line.
    Flag,
    /// This environment variable.
    Env(String),
    /// The config file.
    File(PathBuf),
    /// The flag's default (or unset, for a flag without one).
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One setting: the flag's long name, its value (masked if secret; `None`: unset) and
/// where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The flag's long name (`max-clients`).
    pub name: String,
    /// The value as text, repeated values joined with commas; `None` when unset.
    pub value: Option<String>,
    /// Where the value came from.
    pub source: Source,
}

/// The setting for `arg` in `matches`.
pub fn setting(arg: &Arg, matches: &ArgMatches, source: Source) -> Setting {
    let name = arg.get_long().unwrap_or_default().to_owned();
    let id = arg.get_id().as_str();
    if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
        // A switch's raw value is what was typed (`yes`, `1`); print what it means.
        let on = matches.try_get_one::<bool>(id).ok().flatten().copied().unwrap_or(false);
        return Setting { name, value: Some(on.to_string()), source };
    }
    let raw = matches.try_get_raw(id).ok().flatten();
    let value = raw.map(|values| {
        let text: Vec<String> = values.map(|v| mask(&name, &v.to_string_lossy())).collect();
        text.join(",")
    });
    let value = value.filter(|v| !v.is_empty() || !arg.get_action().takes_values());
    Setting { name, value, source }
}

/// `value` of flag `name` with its secrets masked.
pub fn mask(name: &str, value: &str) -> String {
    let secret_name = SECRET_WORDS.iter().any(|w| name.contains(w)) && !name.ends_with("-file");
    if secret_name {
        return MASK.to_owned();
    }
    mask_url_password(value)
}

/// `scheme://user:PASS@host/...` → `scheme://user:********@host/...`; a user info without a
/// colon is taken as the password too (`redis://PASS@host` is how Redis reads it).
fn mask_url_password(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else { return value.to_owned() };
    let rest = &value[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return value.to_owned() };
    let user = rest[..at].split_once(':').map_or("", |(user, _)| user);
    let colon = if user.is_empty() && !rest[..at].contains(':') { "" } else { ":" };
    format!("{}{user}{colon}{MASK}{}", &value[..scheme_end + 3], &rest[at..])
}

/// The settings as aligned lines: name, value (`-` when unset), source.
pub fn render(settings: &[Setting]) -> String {
    let name_width = settings.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let value_width =
        settings.iter().map(|s| s.value.as_deref().unwrap_or("-").len()).max().unwrap_or(0);
    let value_width = value_width.min(40);
    let mut out = String::new();
    for s in settings {
        let value = s.value.as_deref().unwrap_or("-");
        out.push_str(&format!("{:name_width$}  {value:value_width$}  {}\n", s.name, s.source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(mask("redis", "redis://:hunter2@db:6379/0"), "redis://:********@db:6379/0");
        assert_eq!(mask("redis", "rediss://app:hunter2@db"), "rediss://app:********@db");
        assert_eq!(mask("redis", "redis://hunter2@db"), "redis://********@db");
        assert_eq!(mask("redis", "redis://db:6379"), "redis://db:6379");
        assert_eq!(mask("public-url", "ws://host/ws?a=b@c"), "ws://host/ws?a=b@c");
    }

    #[test]
    fn secret_names_are_masked_but_not_their_files() {
        assert_eq!(mask("jwt-secret", "abc"), MASK);
        assert_eq!(mask("admin-token", "abc"), MASK);
        assert_eq!(mask("redis-password-file", "/run/secrets/redis"), "/run/secrets/redis");
        assert_eq!(mask("bind", "0.0.0.0:8080"), "0.0.0.0:8080");
    }
}
