//! Synthetic Backstage catalogs, shaped like a large organisation's: Groups with contacts,
//! Users, Systems, APIs and Components, where a few APIs (auth, payments, ...) are consumed
//! by thousands. Used by the import suite and `bench-backstage`.

use crate::bench::Rng;
use std::collections::BTreeSet;

/// The APIs nearly everyone consumes, each provided by one component (`svc-0000{i}`).
pub const HOT_APIS: [&str; 5] = ["auth", "payments", "users", "search", "notify"];

/// A generated catalog and what the graph must show once it is imported.
pub struct Synthetic {
    /// One YAML document per entity, in import order.
    pub docs: Vec<String>,
    /// The dependents of `svc-00000` (auth's provider): its consumers, and components that
    /// name it in `dependsOn`.
    pub auth_dependents: usize,
    /// The last component and what it depends on, sorted.
    pub last_component: String,
    pub last_dependencies: Vec<String>,
    /// Dependency edges the catalog implies.
    pub edges: usize,
}

fn component_name(i: usize) -> String {
    format!("svc-{i:05}")
}

/// A catalog of `entities` entities: 1/150 Groups, 1/5 Users, 1/100 Systems, 1/10 APIs, the
/// rest Components. Each component is owned by a group and belongs to a system; the first
/// ones provide the hot APIs, then one API each; 80% consume a hot API, half consume another
/// API, and 30% depend on another component.
pub fn synthetic_catalog(entities: usize, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let groups = (entities / 150).max(1);
    let users = entities / 5;
    let systems = (entities / 100).max(1);
    let apis = (entities / 10).max(HOT_APIS.len());
    let components = entities
        .saturating_sub(groups + users + systems + apis)
        .max(HOT_APIS.len() + 1);
    let plain_apis = apis - HOT_APIS.len();
    let api_name = |j: usize| format!("api-{j:05}");
    let mut docs = Vec::with_capacity(entities);
    for g in 0..groups {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-{g:04}\n  \
             annotations:\n    pagerduty.com/service-id: P{g:06}\nspec:\n  type: team\n  \
             profile:\n    email: team-{g:04}@example.com\n  children: []\n"
        ));
    }
    for s in 0..systems {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: system-{s:04}\n\
             spec:\n  owner: group:default/team-{:04}\n",
            s % groups
        ));
    }
    for a in HOT_APIS
        .iter()
        .map(|h| h.to_string())
        .chain((0..plain_apis).map(api_name))
    {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: {a}\nspec:\n  \
             type: openapi\n  lifecycle: production\n  owner: group:default/team-0000\n  \
             definition: openapi\n"
        ));
    }
    // Who provides what: component i < 5 provides HOT_APIS[i]; the next ones one API each.
    let provider_of = |i: usize| -> Option<String> {
        if i < HOT_APIS.len() {
            Some(HOT_APIS[i].to_string())
        } else if i - HOT_APIS.len() < plain_apis {
            Some(api_name(i - HOT_APIS.len()))
        } else {
            None
        }
    };
    let mut auth_dependents = 0;
    let mut edges = 0;
    let mut last_dependencies = BTreeSet::new();
    let mut component_docs = Vec::with_capacity(components);
    for i in 0..components {
        let mut consumes = Vec::new();
        if rng.unit() < 0.8 {
            consumes.push(HOT_APIS[rng.below(HOT_APIS.len())].to_string());
        }
        if plain_apis > 0 && rng.unit() < 0.5 {
            consumes.push(api_name(rng.below(plain_apis)));
        }
        consumes.sort();
        consumes.dedup();
        let depends = (rng.unit() < 0.3).then(|| component_name(rng.below(components)));
        let mut deps: BTreeSet<String> = BTreeSet::new();
        for api in &consumes {
            let j = HOT_APIS
                .iter()
                .position(|h| h == api)
                .or_else(|| api[4..].parse::<usize>().ok().map(|k| k + HOT_APIS.len()));
            if let Some(p) = j.filter(|p| *p < components) {
                deps.insert(component_name(p));
            }
        }
        deps.extend(depends.clone());
        deps.remove(&component_name(i));
        // svc-00000 provides auth; a component may also name it in dependsOn.
        if deps.contains(&component_name(0)) {
            auth_dependents += 1;
        }
        edges += deps.len();
        if i + 1 == components {
            last_dependencies = deps;
        }
        let mut doc = format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {}\nspec:\n  \
             type: service\n  lifecycle: production\n  owner: group:default/team-{:04}\n  \
             system: system-{:04}\n",
            component_name(i),
            i % groups,
            i % systems
        );
        if let Some(api) = provider_of(i) {
            doc.push_str(&format!("  providesApis:\n    - {api}\n"));
        }
        if !consumes.is_empty() {
            doc.push_str("  consumesApis:\n");
            for c in &consumes {
                doc.push_str(&format!("    - {c}\n"));
            }
        }
        if let Some(d) = depends {
            doc.push_str(&format!("  dependsOn:\n    - component:{d}\n"));
        }
        component_docs.push(doc);
    }
    for u in 0..users {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-{u:05}\n\
             spec:\n  profile:\n    email: user-{u:05}@example.com\n  memberOf: [team-{:04}]\n",
            u % groups
        ));
    }
    docs.extend(component_docs);
    Synthetic {
        docs,
        auth_dependents,
        last_component: component_name(components - 1),
        last_dependencies: last_dependencies.into_iter().collect(),
        edges,
    }
}

/// `n` components that all provide and consume one API: each depends on all the others.
pub fn provide_and_consume_all(n: usize, api: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: \
                 {api}-peer-{i:05}\nspec:\n  type: service\n  lifecycle: production\n  owner: \
                 group:default/team-peers\n  providesApis: [{api}]\n  consumesApis: [{api}]\n"
            )
        })
        .collect()
}

/// Documents as one YAML stream.
pub fn stream(docs: &[String]) -> String {
    docs.join("---\n")
}
