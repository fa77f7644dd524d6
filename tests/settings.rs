//! Every flag also from `TICKWIRE_*` variables and a `--config` TOML file, with precedence
//! flag > environment > file > default, checked through `tickwire config` (the real binary,
//! which prints each setting with its source).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with exactly `env` as its environment.
fn tickwire(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickwire"));
    cmd.env_clear().args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().expect("the tickwire binary runs")
}

/// A file in a fresh temporary directory, removed with it.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let unique = format!("tickwire-settings-{}-{name}", std::process::id());
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write the file");
        TempFile { dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("utf-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `(value, source)` that `tickwire config` printed for `name`.
fn setting(out: &Output, name: &str) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"));
    let mut words = line.split_whitespace().skip(1);
    let value = words.next().expect("a value").to_owned();
    (value, words.collect::<Vec<_>>().join(" "))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    let file = TempFile::new(
        "layers.toml",
        "max-clients = 50\nmax_rooms = 7\nroom-grace = \"45s\"\nagones = false\n",
    );
    let env = [("TICKWIRE_MAX_CLIENTS", "70"), ("TICKWIRE_MAX_ROOMS", "8")];
    let out = tickwire(&["config", "--config", file.path(), "--max-rooms", "9"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let from_file = format!("file {}", file.path());
    assert_eq!(setting(&out, "max-rooms"), ("9".into(), "flag".into()));
    assert_eq!(setting(&out, "max-clients"), ("70".into(), "env TICKWIRE_MAX_CLIENTS".into()));
    assert_eq!(setting(&out, "room-grace"), ("45s".into(), from_file.clone()));
    assert_eq!(setting(&out, "agones"), ("false".into(), from_file));
    assert_eq!(setting(&out, "bind"), ("127.0.0.1:8080".into(), "default".into()));
    assert_eq!(setting(&out, "config"), (file.path().into(), "flag".into()));
}

#[test]
fn repeatable_flags_take_arrays_and_comma_lists_and_switches_take_booleans() {
    let file =
        TempFile::new("lists.toml", "allowed-origin = [\"https://a.test\", \"https://b.test\"]\n");
    let out = tickwire(&["config", "--config", file.path()], &[("TICKWIRE_REALTIME_TICK", "yes")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let origins = setting(&out, "allowed-origin");
    assert_eq!(origins.0, "https://a.test,https://b.test");
    assert_eq!(
        setting(&out, "realtime-tick"),
        ("true".into(), "env TICKWIRE_REALTIME_TICK".into())
    );

    let env = [("TICKWIRE_ALLOWED_ORIGIN", "https://c.test,https://d.test")];
    let out = tickwire(&["config", "--config", file.path()], &env);
    let expected = ("https://c.test,https://d.test".into(), "env TICKWIRE_ALLOWED_ORIGIN".into());
    assert_eq!(setting(&out, "allowed-origin"), expected);
}

#[test]
fn a_flag_may_require_one_from_another_source() {
    // --agones-sdk-url requires --agones: one from the file, one from the command line.
    let file = TempFile::new("agones.toml", "agones = true\n");
    let args = ["config", "--config", file.path(), "--agones-sdk-url", "http://127.0.0.1:9358"];
    let out = tickwire(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(setting(&out, "agones").0, "true");
}

#[test]
fn the_serve_flags_apply_to_the_server_and_a_table_to_its_subcommand() {
    // The server refuses a bad top-level value at once, before binding; a [bots] table is
    // checked as the bots' flags.
    let file =
        TempFile::new("serve.toml", "bind = \"127.0.0.1:0\"\ntick-rate = 0\n[bots]\nclients = 3\n");
    let out = tickwire(&["serve", "--config", file.path()], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("tick"), "{}", stderr(&out));
    let file = TempFile::new("bots.toml", "[bots]\nclients = \"many\"\n");
    let out = tickwire(&["bots", "--config", file.path()], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("key `clients`: expected an integer, found string"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_keys_wrong_types_and_bad_values_name_the_key_and_the_file() {
    let text = "max-clients = \"lots\"\nmax-clinets = 3\nidle-timeout = \"3 fortnights\"\n[bots]\nclient = 1\n";
    let file = TempFile::new("bad.toml", text);
    let out = tickwire(&["config", "--config", file.path()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(file.path()), "{err}");
    assert!(err.contains("line 1: key `max-clients`: expected an integer, found string"), "{err}");
    assert!(err.contains("line 2: unknown key `max-clinets`: no flag --max-clinets"), "{err}");
    assert!(err.contains("line 3: key `idle-timeout`: invalid value '3 fortnights'"), "{err}");
    assert!(err.contains("line 5: unknown key `client` in [bots]"), "{err}");
    assert!(out.stdout.is_empty(), "nothing printed for a bad file");
}

#[test]
fn a_missing_or_broken_file_is_an_error_naming_it() {
    let out = tickwire(&["config", "--config", "/nonexistent/tickwire.toml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("config file /nonexistent/tickwire.toml"), "{}", stderr(&out));
    let file = TempFile::new("broken.toml", "max-clients = \n");
    let out = tickwire(&["config", "--config", file.path()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not valid TOML"), "{}", stderr(&out));
    let file = TempFile::new("self.toml", "config = \"other.toml\"\n");
    let out = tickwire(&["config", "--config", file.path()], &[]);
    assert!(stderr(&out).contains("unknown key `config`"), "{}", stderr(&out));
}

#[test]
fn the_file_may_come_from_the_environment_and_unknown_variables_warn() {
    let file = TempFile::new("env.toml", "orbs = 12\n");
    let env = [("TICKWIRE_CONFIG", file.path()), ("TICKWIRE_MAX_CLINETS", "5")];
    let out = tickwire(&["config"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(setting(&out, "orbs"), ("12".into(), format!("file {}", file.path())));
    assert_eq!(setting(&out, "config").1, "env TICKWIRE_CONFIG");
    let err = stderr(&out);
    assert!(err.contains("WARN") && err.contains("TICKWIRE_MAX_CLINETS names no flag"), "{err}");
}

#[test]
fn secrets_are_masked() {
    let url = "redis://app:hunter2@127.0.0.1:6379";
    let args = ["config", "--redis", url, "--public-url", "ws://127.0.0.1:8080/ws"];
    let out = tickwire(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert_eq!(setting(&out, "redis").0, "redis://app:********@127.0.0.1:6379");
}

#[test]
fn the_example_file_loads() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/tickwire.toml");
    let out = tickwire(&["config", "--config", example.to_str().expect("utf-8")], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = format!("file {}", example.display());
    assert_eq!(setting(&out, "room-capacity"), ("16".into(), source.clone()));
    assert_eq!(setting(&out, "log-format"), ("json".into(), source));
}

#[test]
fn a_bad_variable_is_an_error_naming_it() {
    let out = tickwire(&["config"], &[("TICKWIRE_MAX_CLIENTS", "lots")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("environment variable TICKWIRE_MAX_CLIENTS: invalid value 'lots'"),
        "{err}"
    );
    let out = tickwire(&["bots"], &[("TICKWIRE_BOTS_CLIENTS", "-3")]);
    assert!(
        stderr(&out).contains("environment variable TICKWIRE_BOTS_CLIENTS"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_subcommand_table_sets_that_subcommands_flags() {
    // The bots read their URL from [bots]; nothing listens on the discard port, so the run
    // ends at once and its report names the address it was given.
    let text =
        "[bots]\nurl = \"ws://127.0.0.1:9/ws\"\nclients = 1\nduration = \"1s\"\nramp-up = \"0s\"\n";
    let file = TempFile::new("bots-run.toml", text);
    let out = tickwire(&["bots", "--config", file.path()], &[]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(all.contains("http://127.0.0.1:9/metrics"), "{all}");
}
