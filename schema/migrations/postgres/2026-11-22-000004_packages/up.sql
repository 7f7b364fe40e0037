-- Bills of materials and vulnerabilities. The event log holds every SBOM and OSV record in
-- full; these tables are the current state for SQL readers (and the benchmarks' baselines).

-- An image's current SBOM: the greatest (attached_at, event_key) wins, whatever the order.
CREATE TABLE image_sboms (
    image TEXT PRIMARY KEY NOT NULL,
    event_key TEXT NOT NULL,
    document_digest TEXT NOT NULL,
    format TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    via TEXT NOT NULL,
    attached_at BIGINT NOT NULL,
    packages INTEGER NOT NULL
);

-- A package: its versionless purl.
CREATE TABLE packages (
    purl TEXT PRIMARY KEY NOT NULL,
    purl_type TEXT NOT NULL,
    namespace TEXT,
    name TEXT NOT NULL
);
CREATE INDEX packages_name ON packages (name);

CREATE TABLE package_versions (
    purl TEXT PRIMARY KEY NOT NULL,
    package TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE INDEX package_versions_package ON package_versions (package);

-- Image -contains-> PackageVersion, from the image's current SBOM; depth 1 is direct.
CREATE TABLE image_packages (
    image TEXT NOT NULL,
    package_version TEXT NOT NULL,
    depth INTEGER,
    PRIMARY KEY (image, package_version)
);
CREATE INDEX image_packages_version ON image_packages (package_version);

-- The newest record of each OSV id (by modified, then event key).
CREATE TABLE vulnerabilities (
    id TEXT PRIMARY KEY NOT NULL,
    event_key TEXT NOT NULL,
    modified BIGINT NOT NULL,
    summary TEXT
);

CREATE TABLE vulnerability_packages (
    id TEXT NOT NULL,
    package TEXT NOT NULL,
    PRIMARY KEY (id, package)
);
CREATE INDEX vulnerability_packages_package ON vulnerability_packages (package);
