//! Writing a secret to a file (the bootstrap admin token): created owner-only (0600) in one
//! step, never through a symbolic link, and never into a file others could already read.

use anyhow::{anyhow, Context as _};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

/// Writes `secret` and a newline to `path`.
///
/// A new file is created 0600 with `O_CREAT|O_EXCL|O_NOFOLLOW`, so no other mode is ever
/// visible and a link planted at the path is not followed. An existing file is reused only
/// when it is a regular file readable by its owner alone; one with wider permissions is
/// refused rather than fixed: whoever could read it may hold it open already, and a chmod
/// does not take an open file away from them.
pub fn write(path: &Path, secret: &str) -> anyhow::Result<()> {
    let mut f = match options().create_new(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => existing(path)?,
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    writeln!(f, "{secret}")
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    o
}

/// Opens an existing secret file for rewriting, or says why not.
fn existing(path: &Path) -> anyhow::Result<File> {
    let shown = path.display();
    let f = options().open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return anyhow!(
                "{shown} is a symbolic link: a secret is not written through one (remove it, \
                 or choose another path with --bootstrap-token-file)"
            );
        }
        anyhow!("cannot open {shown}: {e}")
    })?;
    let meta = f
        .metadata()
        .with_context(|| format!("cannot stat {shown}"))?;
    if !meta.is_file() {
        return Err(anyhow!("{shown} exists and is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(anyhow!(
                "{shown} exists with mode {mode:04o}: a secret file must be readable by its \
                 owner only; remove it (or chmod 600 it) and start again"
            ));
        }
    }
    f.set_len(0)
        .with_context(|| format!("cannot truncate {shown}"))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("catalog-secret-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_owner_only_and_an_owner_only_one_is_rewritten() {
        let d = dir("new");
        let p = d.join("token");
        write(&p, "first-secret").unwrap();
        assert_eq!(mode(&p), 0o600);
        write(&p, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second\n");
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn a_readable_file_is_refused_and_left_alone() {
        let d = dir("wide");
        let p = d.join("token");
        std::fs::write(&p, "old\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = write(&p, "s3cret-token").unwrap_err().to_string();
        assert!(e.contains("mode 0644") && e.contains("owner only"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let d = dir("link");
        let target = d.join("elsewhere");
        std::fs::write(&target, "theirs\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let p = d.join("token");
        std::os::unix::fs::symlink(&target, &p).unwrap();
        let e = write(&p, "s3cret-token").unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs\n");
        // A dangling link is not created through either.
        let q = d.join("dangling");
        std::os::unix::fs::symlink(d.join("nothing-here"), &q).unwrap();
        assert!(write(&q, "s3cret-token").is_err());
        assert!(!d.join("nothing-here").exists());
    }
}
