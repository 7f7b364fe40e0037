//! Small SBOM documents for the end-to-end suites.

use serde_json::{json, Value};

/// A CycloneDX 1.5 SBOM of a container naming `packages` (purls) as its direct dependencies.
pub fn cyclonedx(packages: &[&str]) -> Vec<u8> {
    let components: Vec<Value> = packages
        .iter()
        .map(|p| {
            let name = p.rsplit('/').next().unwrap().split('@').next().unwrap();
            let version = p.rsplit('@').next().unwrap();
            json!({"type": "library", "bom-ref": p, "name": name, "version": version, "purl": p})
        })
        .collect();
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"component": {"type": "container", "bom-ref": "root", "name": "app"}},
        "components": components,
        "dependencies": [{"ref": "root", "dependsOn": packages}]
    }))
    .unwrap()
}
