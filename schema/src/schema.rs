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
    images (digest) {
        digest -> Text,
        media_type -> Text,
        size -> BigInt,
        platforms -> Text,
        labels -> Text,
        created -> Nullable<BigInt>,
        first_seen -> BigInt,
    }
}

diesel::table! {
    repository_images (registry, repository, digest) {
        registry -> Text,
        repository -> Text,
        digest -> Text,
        pushed_at -> Nullable<BigInt>,
        last_pushed_at -> Nullable<BigInt>,
        last_deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    tags (registry, repository, tag) {
        registry -> Text,
        repository -> Text,
        tag -> Text,
        digest -> Nullable<Text>,
        since -> BigInt,
    }
}

diesel::table! {
    tag_history (id) {
        id -> BigInt,
        seq -> BigInt,
        registry -> Text,
        repository -> Text,
        tag -> Text,
        digest -> Nullable<Text>,
        at -> BigInt,
    }
}

diesel::table! {
    components (name) {
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    component_versions (component, version) {
        component -> Text,
        version -> Text,
        digest -> Text,
        registry -> Text,
        repository -> Text,
        revision -> Nullable<Text>,
        source -> Nullable<Text>,
        created -> Nullable<BigInt>,
        pushed_at -> BigInt,
    }
}

diesel::table! {
    teams (name) {
        name -> Text,
        email -> Nullable<Text>,
        chat -> Nullable<Text>,
        pager -> Nullable<Text>,
        created_at -> BigInt,
        contacts_at -> Nullable<BigInt>,
        contacts_key -> Nullable<Text>,
    }
}

diesel::table! {
    ownership (component) {
        component -> Text,
        team -> Text,
        via_rank -> Integer,
        since -> BigInt,
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
    deployment_observations (cluster, namespace, workload, at, event_key) {
        cluster -> Text,
        namespace -> Text,
        workload -> Text,
        at -> BigInt,
        event_key -> Text,
        seq -> BigInt,
        status -> Text,
        replicas -> Nullable<Integer>,
        runs -> Text,
        revision -> Nullable<Text>,
        source -> Text,
    }
}

diesel::table! {
    cluster_snapshots (cluster, at, event_key) {
        cluster -> Text,
        at -> BigInt,
        event_key -> Text,
        seq -> BigInt,
        workloads -> Integer,
    }
}

diesel::table! {
    clusters (name) {
        name -> Text,
        environment -> Nullable<Text>,
        environment_at -> Nullable<BigInt>,
        last_seen -> BigInt,
    }
}

diesel::table! {
    image_sboms (image) {
        image -> Text,
        event_key -> Text,
        document_digest -> Text,
        format -> Text,
        spec_version -> Text,
        via -> Text,
        attached_at -> BigInt,
        packages -> Integer,
    }
}

diesel::table! {
    packages (purl) {
        purl -> Text,
        purl_type -> Text,
        namespace -> Nullable<Text>,
        name -> Text,
    }
}

diesel::table! {
    package_versions (purl) {
        purl -> Text,
        package -> Text,
        version -> Text,
    }
}

diesel::table! {
    image_packages (image, package_version) {
        image -> Text,
        package_version -> Text,
        depth -> Nullable<Integer>,
    }
}

diesel::table! {
    vulnerabilities (id) {
        id -> Text,
        event_key -> Text,
        modified -> BigInt,
        summary -> Nullable<Text>,
    }
}

diesel::table! {
    vulnerability_packages (id, package) {
        id -> Text,
        package -> Text,
    }
}

diesel::table! {
    entities (reference) {
        reference -> Text,
        kind -> Text,
        name -> Text,
        event_key -> Text,
        declared_at -> BigInt,
        payload -> Text,
    }
}

diesel::table! {
    dependency_declarations (from_component, to_component) {
        from_component -> Text,
        to_component -> Text,
        present -> Bool,
        since -> BigInt,
        event_key -> Text,
    }
}

diesel::table! {
    entity_apis (entity, api, role) {
        entity -> Text,
        api -> Text,
        role -> Text,
    }
}

diesel::table! {
    dependencies (from_component, to_component) {
        from_component -> Text,
        to_component -> Text,
    }
}

diesel::table! {
    applications (name) {
        name -> Text,
        owner -> Nullable<Text>,
        owner_at -> Nullable<BigInt>,
        owner_key -> Nullable<Text>,
        declared_at -> Nullable<BigInt>,
        event_key -> Nullable<Text>,
    }
}

diesel::table! {
    application_members (application, component, via) {
        application -> Text,
        component -> Text,
        via -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    events,
    inbox,
    images,
    repository_images,
    tags,
    tag_history,
    components,
    component_versions,
    teams,
    ownership,
    tokens,
    deployment_observations,
    cluster_snapshots,
    clusters,
    image_sboms,
    packages,
    package_versions,
    image_packages,
    vulnerabilities,
    vulnerability_packages,
    entities,
    dependency_declarations,
    entity_apis,
    dependencies,
    applications,
    application_members,
);
