//! Getting a Flink distribution and the sample job jar, with nothing but Java and pip.
//!
//! Flink's binary distribution ships inside two PyPI wheels (`apache-flink` holds bin/ and
//! conf/, `apache-flink-libraries` holds lib/, opt/ and plugins/). They are downloaded with
//! `pip download --no-deps` and unpacked once per version into the cache directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::SandboxError;

const SAMPLE_JOB: &str = include_str!("../../assets/sandbox/SampleJob.java");
pub const SAMPLE_JOB_CLASS: &str = "flinkdeck.sample.SampleJob";

/// Unpacks the `pyflink/` tree of a wheel, keeping the exec bits (zip stores them in the
/// upper half of `external_attr`). Python's zipfile is used because unzip may be absent.
const EXTRACT_PY: &str = r#"
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
keep = ("pyflink/bin/", "pyflink/conf/", "pyflink/lib/", "pyflink/opt/", "pyflink/plugins/")
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(keep):
            continue
        path = z.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(path, mode)
"#;

/// Checks that `program --version` runs; the error says what to install.
pub fn require(program: &str, hint: &str) -> Result<(), SandboxError> {
    let ok =
        Command::new(program).arg("-version").output().map(|o| o.status.success()).unwrap_or(false)
            || Command::new(program)
                .arg("--version")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(SandboxError::Missing(format!("`{program}` was not found: {hint}")))
    }
}

fn run(command: &mut Command, what: &str) -> Result<(), SandboxError> {
    let output = command.output().map_err(|e| SandboxError::Step(format!("{what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(SandboxError::Step(format!("{what} failed ({}):\n{}", output.status, tail.join("\n"))))
}

/// Returns FLINK_HOME for `version`, downloading and unpacking it on first use.
pub fn flink_home(cache_dir: &Path, version: &str) -> Result<PathBuf, SandboxError> {
    let root = cache_dir.join("flink").join(version);
    let home = root.join("pyflink");
    if home.join("lib").is_dir() && home.join("bin").join("jobmanager.sh").is_file() {
        return Ok(home);
    }
    require("python3", "install Python 3 with pip")?;
    eprintln!("flinkdeck: downloading Flink {version} from PyPI (about 330 MB, once)…");
    let staging = cache_dir.join("flink").join(format!(".{version}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| SandboxError::Step(format!("creating {}: {e}", staging.display())))?;
    let wheels = staging.join("wheels");
    run(
        Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .args([
                "--python-version",
                "3.11",
                "--platform",
                "manylinux2014_x86_64",
                "--disable-pip-version-check",
                "--quiet",
                "-d",
            ])
            .arg(&wheels)
            .arg(format!("apache-flink=={version}"))
            .arg(format!("apache-flink-libraries=={version}")),
        "pip download of Flink",
    )?;
    let extracted = staging.join("tree");
    for entry in std::fs::read_dir(&wheels).map_err(|e| SandboxError::Step(e.to_string()))? {
        let wheel = entry.map_err(|e| SandboxError::Step(e.to_string()))?.path();
        run(
            Command::new("python3").arg("-c").arg(EXTRACT_PY).arg(&wheel).arg(&extracted),
            &format!("unpacking {}", wheel.display()),
        )?;
    }
    if !extracted.join("pyflink/lib").is_dir() {
        return Err(SandboxError::Step("the Flink wheels had no pyflink/lib".into()));
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::rename(&extracted, &root)
        .map_err(|e| SandboxError::Step(format!("installing Flink: {e}")))?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(home)
}

/// Compiles the sample job against `flink_home` into `dir/sample-job.jar` (once per source).
pub fn sample_jar(flink_home: &Path, dir: &Path) -> Result<PathBuf, SandboxError> {
    require("javac", "install a JDK 17 or newer")?;
    let jar = dir.join("sample-job.jar");
    let stamp = dir.join("sample-job.source");
    let fingerprint = format!("{}\n{}", flink_home.display(), SAMPLE_JOB);
    if jar.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint) {
        return Ok(jar);
    }
    let build = dir.join("sample-build");
    let _ = std::fs::remove_dir_all(&build);
    let source_dir = build.join("src/flinkdeck/sample");
    std::fs::create_dir_all(&source_dir).map_err(|e| SandboxError::Step(e.to_string()))?;
    let source = source_dir.join("SampleJob.java");
    std::fs::write(&source, SAMPLE_JOB).map_err(|e| SandboxError::Step(e.to_string()))?;
    let classes = build.join("classes");
    run(
        Command::new("javac")
            .args(["--release", "17", "-nowarn", "-cp"])
            .arg(format!("{}/lib/*", flink_home.display()))
            .arg("-d")
            .arg(&classes)
            .arg(&source),
        "compiling the sample job",
    )?;
    run(
        Command::new("jar")
            .arg("cfe")
            .arg(&jar)
            .arg(SAMPLE_JOB_CLASS)
            .arg("-C")
            .arg(&classes)
            .arg("."),
        "packing the sample job",
    )?;
    std::fs::write(&stamp, fingerprint).map_err(|e| SandboxError::Step(e.to_string()))?;
    Ok(jar)
}
