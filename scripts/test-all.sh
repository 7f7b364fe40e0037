#!/usr/bin/env bash
# Runs every test of the catalog on a fresh machine: installs what the suites need (Debian
# packages) when missing, makes sure PostgreSQL is up, then format, lints, the core's purity,
# the build, and every test suite. Fails loudly; skips nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for bin in docker-registry skopeo umoci; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
# htpasswd (bcrypt entries for the registry that requires Basic auth) is in apache2-utils.
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
# The SBOM suite runs real producers (cyclonedx-py, sbom4python from PyPI in a venv;
# cyclonedx-npm from npm): it needs Python's venv and npm.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The dashboard suite drives Debian's Chromium with playwright-core under node.
command -v node >/dev/null 2>&1 || need+=(nodejs)
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
# The version-order suite compares with Maven's own ComparableVersion (maven-artifact's jar).
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
[ -f /usr/share/java/maven-artifact-3.x.jar ] || need+=(libmaven3-core-java)
for pkg in libpq-dev libsqlite3-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The scale-out suite starts its own PostgreSQL primary and hot standby from these binaries.
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The store suite runs on PostgreSQL too (127.0.0.1:5432, trust auth).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  pg_isready -h 127.0.0.1 -p 5432 -q || {
    echo "PostgreSQL is not running on 127.0.0.1:5432: install it (apt-get install postgresql) and start it" >&2
    exit 1
  }
fi

echo "== format"
cargo fmt --all --check
echo "== lints"
cargo clippy --workspace --all-targets -q -- -D warnings
echo "== catalog-core stays pure"
tree=$(cargo tree -p catalog-core -e normal,build --prefix none)
for forbidden in diesel actix-web async-graphql tokio; do
  if grep -q "^$forbidden v" <<<"$tree"; then
    echo "catalog-core depends on $forbidden; the core must stay free of I/O frameworks" >&2
    exit 1
  fi
done
echo "== build"
# The end-to-end suites spawn this binary; build it before the tests run.
cargo build --workspace -q
echo "== browser test dependencies (tests/browser/package-lock.json)"
npm ci --prefix tests/browser --no-audit --no-fund
echo "== tests"
cargo test --workspace
# The small benchmark checks that its answers agree (the graph, a snapshot of it, the server's
# start-ups, and PostgreSQL's recursive CTE); it runs in the dev build the tests already
# built, so its timings mean nothing here. Timings come from the README's benchmark commands,
# which build with --release (a third full compile CI does not need).
echo "== benchmark, small size, as a check: answers must agree (dev build: timings not meaningful)"
cargo run -q -p catalog-tests --bin bench-graph -- --size small
