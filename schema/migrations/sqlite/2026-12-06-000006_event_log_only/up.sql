-- The store keeps what must be durable and nothing it does not read: the inbox, the event
-- log (the audit trail and the only source of truth), tokens, and graph snapshots.
--
-- The 23 current-state tables below were written beside the log by a second copy of every
-- domain rule, and no production code read them: the graph (catalog-core) is the one read
-- model, rebuilt from a snapshot and the log's tail. They go, and each rule lives once.

DROP TABLE application_members;
DROP TABLE applications;
DROP TABLE dependencies;
DROP TABLE entity_apis;
DROP TABLE dependency_declarations;
DROP TABLE entities;
DROP TABLE vulnerability_packages;
DROP TABLE vulnerabilities;
DROP TABLE image_packages;
DROP TABLE package_versions;
DROP TABLE packages;
DROP TABLE image_sboms;
DROP TABLE clusters;
DROP TABLE cluster_snapshots;
DROP TABLE deployment_observations;
DROP TABLE ownership;
DROP TABLE teams;
DROP TABLE component_versions;
DROP TABLE components;
DROP TABLE tag_history;
DROP TABLE tags;
DROP TABLE repository_images;
DROP TABLE images;

-- What a worker asks the log instead of holding the graph: has this digest been registered
-- (and with which manifest facts), does it have an SBOM, and what happened to a repository's
-- tags (reconcile folds those events with catalog-core's own rules). Filled by the append
-- from the event itself; these backfill the log written before them.
ALTER TABLE events ADD COLUMN image TEXT;
ALTER TABLE events ADD COLUMN registry TEXT;
ALTER TABLE events ADD COLUMN repository TEXT;
UPDATE events SET image = json_extract(payload, '$.digest')
    WHERE kind IN ('image.registered', 'manifest.deleted');
UPDATE events SET image = json_extract(payload, '$.image') WHERE kind = 'sbom.attached';
UPDATE events SET registry = json_extract(payload, '$.registry'), repository = json_extract(payload, '$.repository')
    WHERE kind IN ('image.registered', 'tag.deleted', 'manifest.deleted');
CREATE INDEX events_image ON events (image, kind) WHERE image IS NOT NULL;
CREATE INDEX events_repository ON events (registry, repository, seq) WHERE repository IS NOT NULL;

-- Graph snapshots: the whole in-memory graph as of log position `seq`, in catalog-core's
-- versioned, checksummed format, cut into parts (each written in its own short transaction,
-- so a snapshot never holds the write lock that webhook acknowledgements wait on). Only a
-- `complete` snapshot is read; a writer killed half-way leaves an incomplete one that is
-- ignored and pruned.
CREATE TABLE graph_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    parts INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    complete BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX graph_snapshots_newest ON graph_snapshots (complete, seq);

CREATE TABLE graph_snapshot_parts (
    snapshot BIGINT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (snapshot, part)
);
