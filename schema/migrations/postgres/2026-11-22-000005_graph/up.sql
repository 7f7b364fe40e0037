-- Ownership, dependencies and applications as teams declare them (Backstage descriptors and
-- the API). Every row here is derived from the event log by an order-insensitive rule: the
-- latest (time, event key) of whatever decides it wins, so replays and reordering change
-- nothing.

-- The latest descriptor of each `kind:name` reference; payload is the entity as JSON.
CREATE TABLE entities (
    reference TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    event_key TEXT NOT NULL,
    declared_at BIGINT NOT NULL,
    payload TEXT NOT NULL
);

-- How to reach a team: the latest of `team.contacts` and the team's Group/User descriptor.
ALTER TABLE teams ADD COLUMN contacts_at BIGINT;
ALTER TABLE teams ADD COLUMN contacts_key TEXT;

-- The latest API declaration or removal of each dependency (declareDependency /
-- removeDependency); `dependencies` weighs it against the `from` descriptor.
CREATE TABLE dependency_declarations (
    from_component TEXT NOT NULL,
    to_component TEXT NOT NULL,
    present BOOLEAN NOT NULL,
    since BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    PRIMARY KEY (from_component, to_component)
);

-- The APIs a component's latest Component/Resource descriptor provides and consumes
-- (role: provides | consumes); a consumer depends on every provider.
CREATE TABLE entity_apis (
    entity TEXT NOT NULL,
    api TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (entity, api, role)
);
CREATE INDEX entity_apis_api ON entity_apis (api, role);

-- Component -depends_on-> Component, the effective edges (from_component depends on
-- to_component). The index serves the reverse walk (who depends on X).
CREATE TABLE dependencies (
    from_component TEXT NOT NULL,
    to_component TEXT NOT NULL,
    PRIMARY KEY (from_component, to_component)
);
CREATE INDEX dependencies_to ON dependencies (to_component);

-- An application: owner from the latest declaration naming one (owner_at, owner_key);
-- declared_at / event_key: its latest `application.declared`, whose components are the
-- `api` members (NULL while only descriptors name the application).
CREATE TABLE applications (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT,
    owner_at BIGINT,
    owner_key TEXT,
    declared_at BIGINT,
    event_key TEXT
);

-- Application -includes-> Component; via: api (the latest application.declared) or
-- backstage (the component's latest descriptor names the application as its system).
CREATE TABLE application_members (
    application TEXT NOT NULL,
    component TEXT NOT NULL,
    via TEXT NOT NULL,
    PRIMARY KEY (application, component, via)
);
CREATE INDEX application_members_component ON application_members (component);
