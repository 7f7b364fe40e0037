//! Python reference implementations the suites compare with (PyPI's `packaging`,
//! `icalendar`), each in a venv of its own in the shared tools cache (`$CATALOG_TOOLS`,
//! default `~/.cache/catalog-tools`, as scripts/sbom-producers.sh uses).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The python of the venv `name`, with `requirement` (pinned `pkg==version`s, space-separated)
/// installed;
/// made once, which needs PyPI the first time. Panics with what to install when it cannot.
pub fn venv_python(name: &str, requirement: &str) -> PathBuf {
    let tools = std::env::var_os("CATALOG_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache/catalog-tools")
        });
    let venv = tools.join(name);
    let python = venv.join("bin/python");
    let marker = venv.join(requirement);
    if !marker.exists() {
        let made = python.exists()
            || Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            made,
            "could not create {}: install python3-venv (apt-get install python3-venv)",
            venv.display()
        );
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(requirement.split_whitespace())
            .status();
        assert!(
            pip.is_ok_and(|s| s.success()),
            "pip could not install {requirement} into {}: it needs PyPI the first time",
            venv.display()
        );
        std::fs::write(&marker, "").expect("the venv's marker file");
    }
    python
}

/// Runs `python` with `args`, `stdin` written to it; returns its output (stdout and stderr
/// captured).
pub fn run_with_stdin(
    python: &Path,
    args: &[&std::ffi::OsStr],
    stdin: &[u8],
) -> std::process::Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(python)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("python reads its input");
    child.wait_with_output().expect("python's output")
}
