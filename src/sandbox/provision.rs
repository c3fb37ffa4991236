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

/// Unpacks a 1.x apache-flink-libraries sdist: its `deps/{lib,opt,plugins}` become
/// `pyflink/{lib,opt,plugins}`, and `deps/bin/bash-java-utils.jar` joins `pyflink/bin`.
const EXTRACT_SDIST_PY: &str = r#"
import sys, tarfile, os, shutil
archive, dest = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as tar:
    for member in tar.getmembers():
        parts = member.name.split("/", 2)
        if len(parts) < 3 or parts[1] != "deps" or not member.isfile():
            continue
        rest = parts[2]
        if not rest.startswith(("lib/", "opt/", "plugins/", "bin/bash-java-utils.jar")):
            continue
        target = os.path.join(dest, "pyflink", rest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with tar.extractfile(member) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
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

pub(super) fn run(command: &mut Command, what: &str) -> Result<(), SandboxError> {
    let output = command.output().map_err(|e| SandboxError::Step(format!("{what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    // Some tools (Maven) print their errors on stdout.
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).rev().take(8).collect();
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
    eprintln!("flinkdeck: downloading Flink {version} from PyPI (250-330 MB, once)…");
    let staging = cache_dir.join("flink").join(format!(".{version}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| SandboxError::Step(format!("creating {}: {e}", staging.display())))?;
    let downloads = staging.join("downloads");
    let pip_download = |binary_only: bool, requirement: String| {
        let mut command = Command::new("python3");
        command.args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
        ]);
        if binary_only {
            command.args([
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                "--platform",
                "manylinux2014_x86_64",
            ]);
        } else {
            command.arg("--no-binary=:all:");
        }
        run(command.arg("-d").arg(&downloads).arg(requirement), "pip download of Flink")
    };
    // bin/ and conf/ always come in the apache-flink wheel. The jars are a pure wheel of
    // apache-flink-libraries in 2.x, but only its sdist (deps/...) in 1.x.
    pip_download(true, format!("apache-flink=={version}"))?;
    let libraries_as_wheel = !version.starts_with("1.");
    pip_download(libraries_as_wheel, format!("apache-flink-libraries=={version}"))?;
    let extracted = staging.join("tree");
    for entry in std::fs::read_dir(&downloads).map_err(|e| SandboxError::Step(e.to_string()))? {
        let archive = entry.map_err(|e| SandboxError::Step(e.to_string()))?.path();
        let script = if archive.extension().is_some_and(|e| e == "whl") {
            EXTRACT_PY
        } else {
            EXTRACT_SDIST_PY
        };
        run(
            Command::new("python3").arg("-c").arg(script).arg(&archive).arg(&extracted),
            &format!("unpacking {}", archive.display()),
        )?;
    }
    if !extracted.join("pyflink/lib").is_dir() {
        return Err(SandboxError::Step("the Flink downloads had no pyflink/lib".into()));
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
