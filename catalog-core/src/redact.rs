//! Secrets inside URLs (a database URL, a registry's `user:password@`), masked for anything
//! shown to people: logs, errors, `--help`. Pure string work, so every layer can use it.

/// A URL (`scheme://user:password@host/...`, or without the scheme) as it may be shown in
/// logs and errors: `user:***@`. Anything after the last `@` is kept as is.
pub fn redact_password(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            let masked = if rest[..at].contains(':') { ":***" } else { "" };
            format!("{scheme}{user}{masked}{}", &rest[at..])
        }
        None => url.to_string(),
    }
}

/// `message` with the password of `url` (if it has one) masked, for errors that may quote the
/// URL (a database driver's, a parser's).
pub fn redact_password_in(message: &str, url: &str) -> String {
    let rest = url.find("://").map_or(url, |i| &url[i + 3..]);
    let password = rest
        .rfind('@')
        .and_then(|at| rest[..at].split_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => message.replace(p, "***"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        for (url, want) in [
            (
                "postgres://u:s3cret@db:5432/catalog",
                "postgres://u:***@db:5432/catalog",
            ),
            ("https://bot:p@ss@ghcr.io", "https://bot:***@ghcr.io"),
            ("bot:s3cret@quay.io", "bot:***@quay.io"),
            ("postgres://u@db/catalog", "postgres://u@db/catalog"),
            ("catalog.db", "catalog.db"),
        ] {
            assert_eq!(redact_password(url), want, "{url}");
        }
        assert_eq!(
            redact_password_in(
                "invalid URI \"postgres://u:s3cret@[db\": s3cret",
                "postgres://u:s3cret@[db"
            ),
            "invalid URI \"postgres://u:***@[db\": ***"
        );
    }
}
