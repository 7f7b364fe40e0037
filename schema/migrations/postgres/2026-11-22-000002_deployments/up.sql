-- Deployments: every observation a deploy tool made of a workload, and the times of full
-- cluster snapshots. Which deployment ran when is derived from these (the in-memory
-- inventory does it; the rows answer SQL and rebuild nothing on their own). Times are
-- microseconds since the epoch, like every other table.
CREATE TABLE deployment_observations (
    cluster TEXT NOT NULL,
    namespace TEXT NOT NULL,
    workload TEXT NOT NULL,
    at BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    replicas INTEGER,
    -- JSON array of {container, image{registry,repository,tag,digest}, component, version}
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

-- environment: the latest one an event named (configuration may override it when read).
CREATE TABLE clusters (
    name TEXT PRIMARY KEY NOT NULL,
    environment TEXT,
    environment_at BIGINT,
    last_seen BIGINT NOT NULL
);
