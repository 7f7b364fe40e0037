// The diesel schema for both dialects; `tests/integration.rs` checks it against the migrations.

diesel::table! {
    events (seq) {
        seq -> BigInt,
        key -> Text,
        kind -> Text,
        payload -> Text,
        source -> Text,
        actor -> Text,
        occurred_at -> BigInt,
        recorded_at -> BigInt,
        image -> Nullable<Text>,
        registry -> Nullable<Text>,
        repository -> Nullable<Text>,
    }
}

diesel::table! {
    inbox (id) {
        id -> BigInt,
        source -> Text,
        body -> Text,
        received_at -> BigInt,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        lease_until -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        state -> Text,
    }
}

diesel::table! {
    tokens (name) {
        name -> Text,
        hash -> Text,
        scopes -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    graph_snapshots (id) {
        id -> BigInt,
        seq -> BigInt,
        bytes -> BigInt,
        parts -> Integer,
        created_at -> BigInt,
        complete -> Bool,
    }
}

diesel::table! {
    graph_snapshot_parts (snapshot, part) {
        snapshot -> BigInt,
        part -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        key -> Text,
        endpoint -> Text,
        body -> Text,
        created_at -> BigInt,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        lease_until -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        state -> Text,
        delivered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    outbox_cursor (name) {
        name -> Text,
        through -> BigInt,
    }
}

diesel::table! {
    outbox_incidents (key) {
        key -> Text,
        body -> Text,
        opened_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    events,
    inbox,
    tokens,
    graph_snapshots,
    graph_snapshot_parts,
    outbox,
    outbox_cursor,
    outbox_incidents,
);
