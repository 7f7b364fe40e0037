-- Notifications go out through a durable outbox: one row per (notification, endpoint), its
-- key unique, so a producer that runs again (a restart, a replay) enqueues nothing twice.
-- Rows stay after delivery: the dashboard shows what was sent, and the key keeps dedup.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    endpoint TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    delivered_at BIGINT
);
-- A lane claims its endpoint's oldest ready rows.
CREATE INDEX outbox_lane ON outbox (endpoint, state, id);
-- Where the producer got to in the log, and the incidents it opened and has not resolved:
-- written in the same transaction as the rows they caused.
CREATE TABLE outbox_cursor (
    name TEXT PRIMARY KEY NOT NULL,
    through BIGINT NOT NULL
);
CREATE TABLE outbox_incidents (
    key TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    opened_at BIGINT NOT NULL
);
