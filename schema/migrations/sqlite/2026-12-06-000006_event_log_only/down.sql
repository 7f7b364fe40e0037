-- Back to the store with current-state tables: they come back empty (only the write path
-- before this migration filled them, and nothing read them).
DROP TABLE graph_snapshot_parts;
DROP TABLE graph_snapshots;
DROP INDEX events_repository;
DROP INDEX events_image;
ALTER TABLE events DROP COLUMN repository;
ALTER TABLE events DROP COLUMN registry;
ALTER TABLE events DROP COLUMN image;
CREATE TABLE images (
    digest TEXT PRIMARY KEY NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    platforms TEXT NOT NULL,
    labels TEXT NOT NULL,
    created BIGINT,
    first_seen BIGINT NOT NULL
);
CREATE TABLE repository_images (
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    pushed_at BIGINT,
    last_pushed_at BIGINT,
    last_deleted_at BIGINT,
    PRIMARY KEY (registry, repository, digest)
);
CREATE TABLE tags (
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT,
    since BIGINT NOT NULL,
    PRIMARY KEY (registry, repository, tag)
);
CREATE INDEX tags_digest ON tags (registry, repository, digest);
CREATE TABLE tag_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq BIGINT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX tag_history_tag ON tag_history (registry, repository, tag, at);
CREATE TABLE components (
    name TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE component_versions (
    component TEXT NOT NULL,
    version TEXT NOT NULL,
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    revision TEXT,
    source TEXT,
    created BIGINT,
    pushed_at BIGINT NOT NULL,
    PRIMARY KEY (component, version)
);
CREATE INDEX component_versions_digest ON component_versions (digest);
CREATE TABLE teams (
    name TEXT PRIMARY KEY NOT NULL,
    email TEXT,
    chat TEXT,
    pager TEXT,
    created_at BIGINT NOT NULL
);
CREATE TABLE ownership (
    component TEXT PRIMARY KEY NOT NULL,
    team TEXT NOT NULL,
    via_rank INTEGER NOT NULL,
    since BIGINT NOT NULL
);
CREATE INDEX ownership_team ON ownership (team);
CREATE TABLE deployment_observations (
    cluster TEXT NOT NULL,
    namespace TEXT NOT NULL,
    workload TEXT NOT NULL,
    at BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    replicas INTEGER,
    runs TEXT NOT NULL,
    revision TEXT,
    source TEXT NOT NULL,
    PRIMARY KEY (cluster, namespace, workload, at, event_key)
);
CREATE INDEX deployment_observations_cluster_at ON deployment_observations (cluster, at);
CREATE TABLE cluster_snapshots (
    cluster TEXT NOT NULL,
    at BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    workloads INTEGER NOT NULL,
    PRIMARY KEY (cluster, at, event_key)
);
CREATE TABLE clusters (
    name TEXT PRIMARY KEY NOT NULL,
    environment TEXT,
    environment_at BIGINT,
    last_seen BIGINT NOT NULL
);
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
CREATE TABLE image_packages (
    image TEXT NOT NULL,
    package_version TEXT NOT NULL,
    depth INTEGER,
    PRIMARY KEY (image, package_version)
);
CREATE INDEX image_packages_version ON image_packages (package_version);
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
CREATE TABLE entities (
    reference TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    event_key TEXT NOT NULL,
    declared_at BIGINT NOT NULL,
    payload TEXT NOT NULL
);
ALTER TABLE teams ADD COLUMN contacts_at BIGINT;
ALTER TABLE teams ADD COLUMN contacts_key TEXT;
CREATE TABLE dependency_declarations (
    from_component TEXT NOT NULL,
    to_component TEXT NOT NULL,
    present INTEGER NOT NULL,
    since BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    PRIMARY KEY (from_component, to_component)
);
CREATE TABLE entity_apis (
    entity TEXT NOT NULL,
    api TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (entity, api, role)
);
CREATE INDEX entity_apis_api ON entity_apis (api, role);
CREATE TABLE dependencies (
    from_component TEXT NOT NULL,
    to_component TEXT NOT NULL,
    PRIMARY KEY (from_component, to_component)
);
CREATE INDEX dependencies_to ON dependencies (to_component);
CREATE TABLE applications (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT,
    owner_at BIGINT,
    owner_key TEXT,
    declared_at BIGINT,
    event_key TEXT
);
CREATE TABLE application_members (
    application TEXT NOT NULL,
    component TEXT NOT NULL,
    via TEXT NOT NULL,
    PRIMARY KEY (application, component, via)
);
CREATE INDEX application_members_component ON application_members (component);
