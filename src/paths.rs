//! Where flinkdeck keeps its files: config, data (the SQLite cache) and cache (the sandbox).
//!
//! Resolution order for each: an explicit flag, then an environment override
//! (`FLINKDECK_CONFIG_DIR`, `FLINKDECK_DATA_DIR`, `FLINKDECK_CACHE_DIR`), then the platform
//! directories (XDG on Linux, via `directories`).

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// The resolved directories of one flinkdeck process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Paths {
    /// Resolves the directories; `data_dir` from `--data-dir` wins over the environment.
    pub fn resolve(data_dir_flag: Option<&Path>) -> Result<Self, String> {
        let project = ProjectDirs::from("", "", "flinkdeck");
        let pick = |env: &str, fallback: Option<PathBuf>| -> Result<PathBuf, String> {
            match std::env::var_os(env) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => fallback.ok_or_else(|| {
                    format!("cannot find a home directory; set {env} to choose a directory")
                }),
            }
        };
        let config_dir =
            pick("FLINKDECK_CONFIG_DIR", project.as_ref().map(|p| p.config_dir().to_path_buf()))?;
        let data_dir = match data_dir_flag {
            Some(dir) => dir.to_path_buf(),
            None => {
                pick("FLINKDECK_DATA_DIR", project.as_ref().map(|p| p.data_dir().to_path_buf()))?
            }
        };
        let cache_dir =
            pick("FLINKDECK_CACHE_DIR", project.as_ref().map(|p| p.cache_dir().to_path_buf()))?;
        Ok(Self { config_dir, data_dir, cache_dir })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join("flinkdeck.sqlite3")
    }

    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("flinkdeck.log")
    }

    pub fn sandbox_dir(&self) -> PathBuf {
        self.cache_dir.join("sandbox")
    }
}
