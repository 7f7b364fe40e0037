#!/usr/bin/env bash
# Makes SBOMs of real sample projects with real SBOM producers, the fixtures the SBOM parsers of
# catalog-ingest are tested against (catalog-ingest/fixtures/sbom, see its README.md).
#
#   scripts/sbom-producers.sh OUTDIR
#
# writes OUTDIR/python.cdx.json (cyclonedx-py, CycloneDX 1.5), OUTDIR/npm.cdx.json
# (cyclonedx-npm, CycloneDX 1.6), OUTDIR/python.spdx.json (sbom4python, SPDX 2.3), and, with
# cdxgen from the same sample npm project, OUTDIR/cdxgen-1.7.cdx.json (CycloneDX 1.7) and
# OUTDIR/cdxgen.spdx3.json (SPDX 3.0.1 JSON-LD).
#
# The producers and the sample projects are installed once under
# ${CATALOG_TOOLS:-$HOME/.cache/catalog-tools} (needs PyPI and the npm registry the first time);
# later runs reuse them and only run the producers. Versions are pinned so the output is
# comparable between runs.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
TOOLS=${CATALOG_TOOLS:-$HOME/.cache/catalog-tools}
mkdir -p "$TOOLS"
TOOLS=$(cd "$TOOLS" && pwd)

# The producers.
CYCLONEDX_BOM="cyclonedx-bom==7.5.0"
SBOM4PYTHON="sbom4python==0.12.6"
CYCLONEDX_NPM="@cyclonedx/cyclonedx-npm@6.0.1"
CDXGEN="@cyclonedx/cdxgen@12.8.4"
# The sample Python project: its direct dependencies, and the versions of the transitive ones
# (pinned as pip constraints, so that the environment is the same on every machine).
PY_DIRECT=("requests==2.31.0" "Django==4.2.7" "djangorestframework==3.14.0")
PY_CONSTRAINTS=("asgiref==3.13.0" "certifi==2026.10.18" "charset-normalizer==3.5.2" "idna==3.20"
  "pytz==2026.6" "sqlparse==0.6.1" "urllib3==2.8.0")

say() { printf '== %s\n' "$*"; }
die() {
  printf 'sbom-producers: %s\n' "$*" >&2
  exit 1
}

command -v python3 >/dev/null 2>&1 ||
  die "python3 not found: install Python 3 with venv support (apt-get install python3 python3-venv)"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
  die "python3 cannot create virtual environments: install python3-venv (apt-get install python3-venv)"
command -v npm >/dev/null 2>&1 ||
  die "npm not found: install Node.js 18 or later with npm (apt-get install nodejs npm)"

# stamp FILE: what was installed there last; `fresh FILE WANT` is true when it is WANT.
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# 1. The producers' Python environment: cyclonedx-py and sbom4python.
VENV=$TOOLS/venv
want="$CYCLONEDX_BOM $SBOM4PYTHON"
if fresh "$VENV/.catalog-stamp" "$want"; then
  say "producers venv $VENV is ready ($want)"
else
  say "installing $want into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" ||
    die "could not create $VENV: install python3-venv (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$CYCLONEDX_BOM" "$SBOM4PYTHON" ||
    die "pip install $want failed: it needs access to PyPI"
  printf '%s' "$want" >"$VENV/.catalog-stamp"
fi

# 2. The sample Python project: a venv with real packages installed, and a pyproject.toml
#    naming the direct dependencies (cyclonedx-py makes it the root component).
SAMPLE_PY=$TOOLS/sample-py
want="${PY_DIRECT[*]} / ${PY_CONSTRAINTS[*]}"
if fresh "$SAMPLE_PY/.catalog-stamp" "$want"; then
  say "sample Python project $SAMPLE_PY is ready"
else
  say "creating the sample Python project in $SAMPLE_PY (${PY_DIRECT[*]})"
  [ -x "$SAMPLE_PY/bin/python" ] || python3 -m venv "$SAMPLE_PY" ||
    die "could not create $SAMPLE_PY: install python3-venv (apt-get install python3-venv)"
  printf '%s\n' "${PY_DIRECT[@]}" >"$SAMPLE_PY/requirements.txt"
  printf '%s\n' "${PY_CONSTRAINTS[@]}" >"$SAMPLE_PY/constraints.txt"
  {
    echo '[project]'
    echo 'name = "catalog-sample"'
    echo 'version = "1.0.0"'
    printf 'dependencies = ['
    sep=""
    for d in "${PY_DIRECT[@]}"; do
      printf '%s"%s"' "$sep" "$d"
      sep=", "
    done
    echo ']'
  } >"$SAMPLE_PY/pyproject.toml"
  "$SAMPLE_PY/bin/pip" install -q --disable-pip-version-check \
    -r "$SAMPLE_PY/requirements.txt" -c "$SAMPLE_PY/constraints.txt" ||
    die "pip install into $SAMPLE_PY failed: it needs access to PyPI"
  printf '%s' "$want" >"$SAMPLE_PY/.catalog-stamp"
fi

# 3. cyclonedx-npm, installed locally (no global npm install).
CDX_NPM_DIR=$TOOLS/cdx-npm
CDX_NPM=$CDX_NPM_DIR/node_modules/.bin/cyclonedx-npm
if fresh "$CDX_NPM_DIR/.catalog-stamp" "$CYCLONEDX_NPM" && [ -x "$CDX_NPM" ]; then
  say "cyclonedx-npm in $CDX_NPM_DIR is ready ($CYCLONEDX_NPM)"
else
  say "installing $CYCLONEDX_NPM into $CDX_NPM_DIR"
  mkdir -p "$CDX_NPM_DIR"
  [ -f "$CDX_NPM_DIR/package.json" ] || echo '{"private": true}' >"$CDX_NPM_DIR/package.json"
  (cd "$CDX_NPM_DIR" && npm install --no-audit --no-fund --loglevel=error "$CYCLONEDX_NPM") ||
    die "npm install $CYCLONEDX_NPM failed: it needs access to the npm registry"
  printf '%s' "$CYCLONEDX_NPM" >"$CDX_NPM_DIR/.catalog-stamp"
fi

# 3b. cdxgen, installed locally without its optional dependencies: those are the per-platform
#     plugin binaries, atom and the server's packages (287 MB installed; 57 MB without them,
#     about 10 s from an empty npm cache), none of which an npm project's SBOM needs.
CDXGEN_DIR=$TOOLS/cdxgen
CDXGEN_BIN=$CDXGEN_DIR/node_modules/.bin/cdxgen
if fresh "$CDXGEN_DIR/.catalog-stamp" "$CDXGEN" && [ -x "$CDXGEN_BIN" ]; then
  say "cdxgen in $CDXGEN_DIR is ready ($CDXGEN)"
else
  say "installing $CDXGEN into $CDXGEN_DIR (without optional dependencies)"
  mkdir -p "$CDXGEN_DIR"
  [ -f "$CDXGEN_DIR/package.json" ] || echo '{"private": true}' >"$CDXGEN_DIR/package.json"
  (cd "$CDXGEN_DIR" && npm install --omit=optional --no-audit --no-fund --loglevel=error "$CDXGEN") ||
    die "npm install $CDXGEN failed: it needs access to the npm registry"
  printf '%s' "$CDXGEN" >"$CDXGEN_DIR/.catalog-stamp"
fi

# 4. The sample npm project: express (a deep tree) and a scoped package.
SAMPLE_NPM=$TOOLS/sample-npm
manifest='{
  "name": "catalog-sample-npm",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "@babel/code-frame": "7.22.13",
    "express": "4.18.2"
  }
}'
if fresh "$SAMPLE_NPM/.catalog-stamp" "$manifest" && [ -d "$SAMPLE_NPM/node_modules" ]; then
  say "sample npm project $SAMPLE_NPM is ready"
else
  say "creating the sample npm project in $SAMPLE_NPM (express@4.18.2, @babel/code-frame@7.22.13)"
  mkdir -p "$SAMPLE_NPM"
  printf '%s\n' "$manifest" >"$SAMPLE_NPM/package.json"
  (cd "$SAMPLE_NPM" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    die "npm install in $SAMPLE_NPM failed: it needs access to the npm registry"
  printf '%s' "$manifest" >"$SAMPLE_NPM/.catalog-stamp"
fi

# 5. The producers.
say "cyclonedx-py $("$VENV/bin/cyclonedx-py" --version) -> $OUT/python.cdx.json"
"$VENV/bin/cyclonedx-py" environment "$SAMPLE_PY/bin/python" \
  --pyproject "$SAMPLE_PY/pyproject.toml" \
  --of JSON --sv 1.5 --output-reproducible -o "$OUT/python.cdx.json" ||
  die "cyclonedx-py failed (reinstall: rm -rf $VENV and run again)"

say "cyclonedx-npm $("$CDX_NPM" --version) -> $OUT/npm.cdx.json"
(cd "$SAMPLE_NPM" && "$CDX_NPM" --output-format JSON --spec-version 1.6 --output-reproducible \
  --output-file "$OUT/npm.cdx.json") ||
  die "cyclonedx-npm failed (reinstall: rm -rf $CDX_NPM_DIR $SAMPLE_NPM and run again)"

# cdxgen reads package-lock.json and node_modules; --no-install-deps keeps it from running npm
# itself (and off the network). Its banner and its warning about running as root go to a log.
say "cdxgen $("$CDXGEN_BIN" --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | awk 'NF {print $NF; exit}') -> $OUT/cdxgen-1.7.cdx.json, $OUT/cdxgen.spdx3.json"
(cd "$SAMPLE_NPM" && "$CDXGEN_BIN" -t js --no-install-deps --no-recurse --json-pretty \
  --spec-version 1.7 -o "$OUT/cdxgen-1.7.cdx.json" . >"$OUT/cdxgen.log" 2>&1 &&
  "$CDXGEN_BIN" -t js --no-install-deps --no-recurse --json-pretty \
    --format spdx -o "$OUT/cdxgen.spdx3.json" . >>"$OUT/cdxgen.log" 2>&1) ||
  die "cdxgen failed, see $OUT/cdxgen.log (reinstall: rm -rf $CDXGEN_DIR and run again)"
[ -s "$OUT/cdxgen-1.7.cdx.json" ] && [ -s "$OUT/cdxgen.spdx3.json" ] ||
  die "cdxgen wrote no SBOM, see $OUT/cdxgen.log"

# sbom4python asks the sample venv's pip (--use-pip --python) about the installed packages, so
# it sees the sample project rather than its own environment.
say "sbom4python $("$VENV/bin/sbom4python" --version | awk '{print $NF}') -> $OUT/python.spdx.json"
"$VENV/bin/sbom4python" -m djangorestframework --use-pip --python "$SAMPLE_PY/bin/python" \
  --sbom spdx --format json -o "$OUT/python.spdx.json" ||
  die "sbom4python failed (reinstall: rm -rf $VENV and run again)"

say "done: $OUT/python.cdx.json $OUT/npm.cdx.json $OUT/python.spdx.json $OUT/cdxgen-1.7.cdx.json $OUT/cdxgen.spdx3.json"
