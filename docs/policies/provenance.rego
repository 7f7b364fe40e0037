# Outside dev, deploy only versions the catalog knows, with an SBOM, owned by a team, and not
# rejected for the environment.
package catalog.provenance

import rego.v1

guarded if input.deployment.environment != "dev"

deny contains msg if {
	guarded
	not input.known_version
	msg := sprintf("%s %s is not in the catalog: push it to a configured registry first", [input.deployment.component, input.deployment.version])
}

deny contains msg if {
	guarded
	input.known_version
	not input.sbom.present
	msg := sprintf("%s %s has no SBOM", [input.deployment.component, input.deployment.version])
}

deny contains msg if {
	guarded
	not owned
	msg := sprintf("%s has no owning team", [input.deployment.component])
}

# No owner is `null` in the input: a value, so test for a name.
owned if is_string(input.owner.team)

deny contains msg if {
	guarded
	some a in input.approvals
	a.environment == input.deployment.environment
	a.decision == "rejected"
	msg := sprintf("rejected for %s by %s", [a.environment, a.approver])
}
