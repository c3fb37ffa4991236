//! What a new user runs into first (issue 9): the command lines the README shows, the
//! messages of user errors, a broken cache file, and the permissions of the files flinkdeck
//! writes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use flinkdeck::cli::{Cli, Command};
use flinkdeck::config::Config;
#[path = "common/sim.rs"]
mod sim;

use sim::{Behavior, SimCluster, synthetic_jobs};
use tempfile::TempDir;

/// The binary with its own config, data and cache dirs, no backtrace asked for, and stderr
/// a pipe (not a terminal).
fn flinkdeck(home: &TempDir) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"));
    command
        .env("FLINKDECK_CONFIG_DIR", home.path().join("config"))
        .env("FLINKDECK_DATA_DIR", home.path().join("data"))
        .env("FLINKDECK_CACHE_DIR", home.path().join("cache"))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("NO_COLOR");
    command
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A user's error: the message, no colour codes in a pipe, none of a developer's sections.
fn assert_user_error(output: &Output, message: &str) -> String {
    let stderr = stderr_of(output);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
    for noise in ["BACKTRACE", "Backtrace omitted", "Location:", "SPANTRACE", "\x1b["] {
        assert!(!stderr.contains(noise), "{noise:?} in:\n{stderr}");
    }
    stderr
}

/// The config the README's forms are resolved against: `NAME` stands for a configured cluster.
const CONFIG: &str = "[[clusters]]\nname = 'NAME'\nurl = 'http://127.0.0.1:8081'\n";

/// Resolves the clusters a command line uses, as the binary does.
fn clusters_of(cli: &Cli) -> Result<Vec<String>, String> {
    let mut config = Config::parse(CONFIG, Path::new("test.toml")).map_err(|e| e.to_string())?;
    config.override_clusters(&cli.clusters, &cli.picked_clusters).map_err(|e| e.to_string())?;
    config.ensure_default_cluster();
    Ok(config.clusters.into_iter().map(|c| c.name).collect())
}

fn parse(line: &str) -> Cli {
    Cli::try_parse_command_line(line.split_whitespace()).unwrap_or_else(|e| panic!("{line}\n{e}"))
}

/// The `flinkdeck …` lines of README.md's "Using it" block, comments removed.
fn readme_forms() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme.split("## Using it").nth(1).expect("a Using it section");
    let block = section.split("```").nth(1).expect("a code block");
    block
        .lines()
        .filter(|l| l.starts_with("flinkdeck"))
        .map(|l| l.split(" # ").next().unwrap().trim().to_string())
        .collect()
}

/// Every command line a README form stands for: `a | b` outside brackets are separate
/// commands, `[x | y]` is optional with alternatives, `(x | y)` is required, `a|b` is one
/// word of alternatives; placeholders get sample values.
fn expand(form: &str) -> Vec<Vec<String>> {
    let mut alternatives = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    let chars: Vec<char> = form.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 && c == '|' && chars.get(i.wrapping_sub(1)) == Some(&' ') {
            alternatives.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    alternatives.push(current);
    let mut lines = Vec::new();
    for (i, alternative) in alternatives.iter().enumerate() {
        let text = if i == 0 { alternative.clone() } else { format!("flinkdeck {alternative}") };
        lines.extend(expand_groups(&tokens(&text)));
    }
    lines
}

/// Words, with each bracketed group kept as one token.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        if c == ' ' && depth == 0 {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn expand_groups(tokens: &[String]) -> Vec<Vec<String>> {
    let Some((first, rest)) = tokens.split_first() else { return vec![Vec::new()] };
    let choices: Vec<Vec<String>> =
        if let Some(inner) = first.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            std::iter::once(Vec::new())
                .chain(inner.split(" | ").flat_map(|alt| expand_groups(&self::tokens(alt))))
                .collect()
        } else if let Some(inner) = first.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            inner.split(" | ").flat_map(|alt| expand_groups(&self::tokens(alt))).collect()
        } else if first.contains('|') {
            first.split('|').map(|word| vec![sample(word)]).collect()
        } else {
            vec![vec![sample(first)]]
        };
    let tails = expand_groups(rest);
    choices
        .iter()
        .flat_map(|head| tails.iter().map(move |tail| [head.clone(), tail.clone()].concat()))
        .collect()
}

fn sample(word: &str) -> String {
    match word {
        "JOB" => "a1b2c3d4",
        "PATH" => "job.jar",
        "CLASS" => "org.example.Job",
        "N" => "2",
        "FILE" => "job.sql",
        "STATEMENTS" => "SELECT",
        "ID" => "7",
        "REGEX" => "ERROR",
        "ARGS..." => "--input",
        other => other,
    }
    .to_string()
}

#[test]
fn every_command_line_the_readme_shows_parses_and_resolves_its_clusters() {
    let forms = readme_forms();
    assert!(forms.len() >= 15, "{forms:?}");
    let mut checked = 0;
    for form in &forms {
        let lines = expand(form);
        assert!(!lines.is_empty(), "{form}");
        for words in lines {
            let line = words.join(" ");
            let cli = Cli::try_parse_command_line(&words)
                .unwrap_or_else(|e| panic!("README form {form:?} as {line:?}:\n{e}"));
            let clusters =
                clusters_of(&cli).unwrap_or_else(|e| panic!("README form {line:?}: {e}"));
            if matches!(cli.command, Some(Command::Submit { .. })) {
                assert_eq!(clusters, ["NAME"], "{line}");
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} command lines");
}

#[test]
fn a_cluster_named_on_the_command_line_can_be_picked_by_the_command() {
    let cli = parse(
        "flinkdeck --cluster a=http://127.0.0.1:1 --cluster b=http://127.0.0.1:2 \
         submit --cluster a --jar x.jar",
    );
    assert_eq!(clusters_of(&cli).unwrap(), ["a"]);
    // A NAME=URL before the command wins over a configured cluster of that name.
    let cli = parse("flinkdeck --cluster NAME=http://127.0.0.1:9 jobs --cluster NAME");
    let mut config = Config::parse(CONFIG, Path::new("test.toml")).unwrap();
    config.override_clusters(&cli.clusters, &cli.picked_clusters).unwrap();
    assert_eq!(config.clusters[0].url, "http://127.0.0.1:9");
    // Flags after the command alone work as before: a configured name or a URL.
    let cli = parse("flinkdeck restart j1 --cluster http://127.0.0.1:1 --cluster NAME");
    assert_eq!(clusters_of(&cli).unwrap(), ["127.0.0.1:1", "NAME"]);
    // Before the command, several clusters are all in use.
    let cli = parse("flinkdeck --cluster NAME --cluster x=http://127.0.0.1:3 jobs");
    assert_eq!(clusters_of(&cli).unwrap(), ["NAME", "x"]);
}

#[test]
fn an_unknown_cluster_name_lists_the_known_ones() {
    let cli = parse("flinkdeck --cluster a=http://127.0.0.1:1 submit --cluster c --jar x.jar");
    let error = clusters_of(&cli).unwrap_err();
    assert!(error.contains("\"c\"") && error.contains("known: a, NAME"), "{error}");
}

#[test]
fn a_bad_config_prints_the_message_and_the_fix_but_no_backtrace() {
    let home = TempDir::new().unwrap();
    let output = flinkdeck(&home).args(["--config", "/nonexistent.toml", "jobs"]).output().unwrap();
    let stderr =
        assert_user_error(&output, "cannot read /nonexistent.toml: No such file or directory");
    assert_eq!(stderr.matches("No such file or directory").count(), 1, "{stderr}");
    assert!(stderr.contains("Suggestion: check the path"), "{stderr}");

    let broken = home.path().join("broken.toml");
    std::fs::write(&broken, "[poll]\ninterval = 5\n").unwrap();
    let output = flinkdeck(&home).arg("--config").arg(&broken).arg("jobs").output().unwrap();
    assert_user_error(&output, &format!("{} is not valid", broken.display()));

    // A developer still gets the backtrace by asking for it.
    let output = flinkdeck(&home)
        .args(["--config", "/nonexistent.toml", "jobs"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(stderr_of(&output).contains("BACKTRACE"), "{}", stderr_of(&output));
}

#[tokio::test]
async fn an_unknown_job_says_how_to_list_jobs_and_which_clusters_did_not_answer() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let home = TempDir::new().unwrap();
    let mut command = flinkdeck(&home);
    command.args(["restart", "nosuchjob", "--cluster"]).arg(format!("up={}", cluster.url()));
    command.args(["--cluster", &format!("down=http://127.0.0.1:{closed}")]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let stderr = assert_user_error(&output, "no job has the id or name \"nosuchjob\"");
    assert!(stderr.contains("Warning: cluster down did not answer: cannot connect"), "{stderr}");
    assert!(!stderr.contains("cluster up did not answer"), "{stderr}");
    assert!(stderr.contains("Suggestion: `flinkdeck jobs` lists the jobs"), "{stderr}");
}

#[tokio::test]
async fn a_refused_request_prints_flinks_answer_without_a_backtrace() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let jid = synthetic_jobs(0, 3)[0].jid.clone();
    let home = TempDir::new().unwrap();
    let mut command = flinkdeck(&home);
    command.args(["cancel", &jid, "--cluster"]).arg(format!("sim={}", cluster.url()));
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let stderr = assert_user_error(&output, "HTTP 404");
    assert!(stderr.contains(&format!("Not found: /jobs/{jid}")), "{stderr}");
}

#[test]
fn a_corrupt_cache_is_moved_aside_and_history_still_works() {
    let home = TempDir::new().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let database = data.join("flinkdeck.sqlite3");
    let garbage = b"not a database: a stray `> flinkdeck.sqlite3` wrote this\n".repeat(200);
    std::fs::write(&database, &garbage).unwrap();

    let output = flinkdeck(&home).arg("history").output().unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let moved = stderr
        .split_whitespace()
        .find(|w| w.contains("flinkdeck.sqlite3.corrupt-"))
        .unwrap_or_else(|| panic!("no moved file named in:\n{stderr}"));
    assert_eq!(std::fs::read(moved).unwrap(), garbage, "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "only the header: {stdout}");

    // The fresh file is a working journal: the next command says nothing about it.
    let output = flinkdeck(&home).args(["history", "--json"]).output().unwrap();
    assert!(output.status.success() && stderr_of(&output).is_empty(), "{}", stderr_of(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "[]");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn the_dirs_and_files_of_a_first_run_are_private() {
    let home = TempDir::new().unwrap();
    let output = flinkdeck(&home).args(["jobs", "--cluster", &closed_port_url()]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let (config, data) = (home.path().join("config"), home.path().join("data"));
    assert_eq!(mode(&config), 0o700, "config dir");
    assert_eq!(mode(&config.join("config.toml")), 0o600, "config file");
    assert_eq!(mode(&data), 0o700, "data dir");
    assert_eq!(mode(&data.join("flinkdeck.log")), 0o600, "log file");
    assert_eq!(mode(&data.join("flinkdeck.sqlite3")), 0o600, "database");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    // A database an older flinkdeck left readable is tightened, with its -wal and -shm.
    let database = data.join("flinkdeck.sqlite3");
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = flinkdeck(&home).arg("history").output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(mode(&database), 0o600);
}

#[test]
fn a_config_with_secrets_that_others_can_read_is_warned_about() {
    let home = TempDir::new().unwrap();
    let file = home.path().join("shared.toml");
    let with_password = "[[clusters]]\nname = 'prod'\nurl = 'http://127.0.0.1:1'\n\
                         [clusters.auth]\nusername = 'ops'\npassword = 'hunter2'\n";
    let run = |text: &str, mode: u32| {
        std::fs::write(&file, text).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let output = flinkdeck(&home)
            .arg("--config")
            .arg(&file)
            .args(["jobs", "--cluster", &closed_port_url()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        stderr_of(&output)
    };
    let stderr = run(with_password, 0o644);
    let name = file.display();
    assert!(
        stderr.contains(&format!("warning: {name} holds secrets ([clusters.auth] of prod)")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("chmod 600 {name}")), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!run(with_password, 0o600).contains("warning"), "0600 is private");
    let with_env = "[[clusters]]\nname = 'prod'\nurl = 'http://127.0.0.1:1'\n\
                    [clusters.auth]\nusername = 'ops'\npassword_env = 'PROD_PASSWORD'\n";
    assert!(!run(with_env, 0o644).contains("warning"), "no secret in the file");
    let with_header = "[[clusters]]\nname = 'edge'\nurl = 'http://127.0.0.1:1'\n\
                       [clusters.auth.headers]\nX-Api-Key = 'k'\n";
    assert!(run(with_header, 0o640).contains("[clusters.auth] of edge"), "headers count");
}
