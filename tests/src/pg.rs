//! PostgreSQL clusters a test starts itself: a primary and a streaming hot standby, from the
//! Debian binaries in `/usr/lib/postgresql/15/bin`, in temp directories on free ports, run as
//! the `postgres` user through `runuser` (PostgreSQL refuses to run as root). The machine's
//! own cluster on 5432 is left alone. The pair starts in about 4 s.
//!
//! Stopped with `pg_ctl stop -m immediate` when dropped.

use crate::registry::TempDir;
use crate::server::free_port;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// One running cluster.
pub struct PgCluster {
    pub port: u16,
    data: PathBuf,
    log: PathBuf,
}

/// A primary and its hot standby, streaming.
pub struct PgPair {
    pub primary: PgCluster,
    pub standby: PgCluster,
    /// Holds the data directories; dropped last.
    _dir: TempDir,
}

fn bin(name: &str) -> Result<PathBuf> {
    let p = Path::new(BIN).join(name);
    if !p.exists() {
        bail!(
            "{} not found: apt-get install postgresql-15 (the test starts its own primary and \
             standby from the Debian binaries)",
            p.display()
        );
    }
    Ok(p)
}

/// Runs a PostgreSQL binary as the `postgres` user; fails with its output.
fn run_as_postgres(program: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .output()
        .with_context(|| {
            format!(
                "cannot run {} as postgres (runuser, from util-linux)",
                program.display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "{} {}: {}\n{}{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl PgCluster {
    /// `postgres://postgres@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn start(data: &Path, log: &Path, port: u16, socket_dir: &Path) -> Result<PgCluster> {
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c full_page_writes=off -c max_connections=60 \
             -c shared_buffers=64MB",
            socket_dir.display()
        );
        let data_s = data.display().to_string();
        let log_s = log.display().to_string();
        run_as_postgres(
            &bin("pg_ctl")?,
            &[
                "-D", &data_s, "-o", &opts, "-l", &log_s, "-w", "-t", "60", "start",
            ],
        )
        .with_context(|| {
            format!(
                "starting PostgreSQL in {}; its log:\n{}",
                data.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })?;
        Ok(PgCluster {
            port,
            data: data.to_path_buf(),
            log: log.to_path_buf(),
        })
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs SQL through psql on `db`; returns its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let out = Command::new("psql")
            .arg(self.url(db))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .context("cannot run psql (apt-get install postgresql-client)")?;
        if !out.status.success() {
            bail!("psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn stop(&self) {
        if let Ok(pg_ctl) = bin("pg_ctl") {
            let data = self.data.display().to_string();
            let _ = run_as_postgres(&pg_ctl, &["-D", &data, "-m", "immediate", "stop"]);
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl PgPair {
    /// `initdb -A trust`, a `host replication` line, `pg_ctl start`, then `pg_basebackup -R -X
    /// stream` and the standby started on it; waits until the standby is in recovery and
    /// streaming.
    pub fn start() -> Result<PgPair> {
        let dir = TempDir::new("catalog-pg")?;
        // The postgres user must own (and reach) the directories.
        let chown = |p: &Path| -> Result<()> {
            let st = Command::new("chown")
                .arg("postgres:postgres")
                .arg(p)
                .status()?;
            if !st.success() {
                bail!("chown postgres {}: {st}", p.display());
            }
            Ok(())
        };
        chown(dir.path())?;
        let primary_data = dir.path().join("primary");
        let standby_data = dir.path().join("standby");
        let initdb = bin("initdb")?;
        run_as_postgres(
            &initdb,
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-D",
                &primary_data.display().to_string(),
            ],
        )?;
        let hba = primary_data.join("pg_hba.conf");
        let mut conf = std::fs::read_to_string(&hba)?;
        conf.push_str("\nhost replication all 127.0.0.1/32 trust\n");
        std::fs::write(&hba, conf)?;
        let (pp, sp) = (free_port()?, free_port()?);
        let primary = PgCluster::start(
            &primary_data,
            &dir.path().join("primary.log"),
            pp,
            dir.path(),
        )?;
        run_as_postgres(
            &bin("pg_basebackup")?,
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &pp.to_string(),
                "-U",
                "postgres",
                "-D",
                &standby_data.display().to_string(),
                "-R",
                "-X",
                "stream",
            ],
        )?;
        let standby = PgCluster::start(
            &standby_data,
            &dir.path().join("standby.log"),
            sp,
            dir.path(),
        )?;
        let t = Instant::now();
        loop {
            let recovering = standby.psql("postgres", "SELECT pg_is_in_recovery()");
            let streaming = primary.psql(
                "postgres",
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            );
            if matches!((&recovering, &streaming), (Ok(r), Ok(s)) if r == "t" && s == "1") {
                break;
            }
            if t.elapsed() > Duration::from_secs(60) {
                return Err(anyhow!(
                    "the standby is not streaming after 60 s ({recovering:?}, {streaming:?}); \
                     primary log:\n{}\nstandby log:\n{}",
                    primary.log(),
                    standby.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(PgPair {
            primary,
            standby,
            _dir: dir,
        })
    }

    /// Waits until the standby has replayed everything the primary has written so far.
    pub fn wait_caught_up(&self, timeout: Duration) -> Result<()> {
        let lsn = self
            .primary
            .psql("postgres", "SELECT pg_current_wal_lsn()")?;
        let t = Instant::now();
        loop {
            let behind = self.standby.psql(
                "postgres",
                &format!("SELECT pg_last_wal_replay_lsn() < '{lsn}'::pg_lsn"),
            )?;
            if behind == "f" {
                return Ok(());
            }
            if t.elapsed() > timeout {
                bail!("the standby has not replayed up to {lsn} after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
