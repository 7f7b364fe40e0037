-- Times are microseconds since the Unix epoch (BIGINT) in both dialects: portable, compact,
-- and ordered the same way everywhere.

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX events_kind_seq ON events (kind, seq);

CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX inbox_ready ON inbox (state, next_attempt_at);

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
    -- first and last push, last delete: deleted when last_deleted_at >= last_pushed_at;
    -- a tag set before last_deleted_at went with the manifest.
    pushed_at BIGINT,
    last_pushed_at BIGINT,
    last_deleted_at BIGINT,
    PRIMARY KEY (registry, repository, digest)
);

-- Current tag state; digest NULL is a tombstone (deleted), kept so a late, older push loses.
CREATE TABLE tags (
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT,
    since BIGINT NOT NULL,
    PRIMARY KEY (registry, repository, tag)
);
CREATE INDEX tags_digest ON tags (registry, repository, digest);

-- Every tag observation, append-only: the state at time T is the row with the greatest `at`
-- not after T, whatever order the observations arrived in.
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

-- via_rank: 0 = image label, 1 = API; a higher rank wins, then the later `since`.
CREATE TABLE ownership (
    component TEXT PRIMARY KEY NOT NULL,
    team TEXT NOT NULL,
    via_rank INTEGER NOT NULL,
    since BIGINT NOT NULL
);
CREATE INDEX ownership_team ON ownership (team);

-- Bearer tokens, stored as SHA-256 of the secret; scopes is a comma list (read,ingest,admin).
CREATE TABLE tokens (
    name TEXT PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
