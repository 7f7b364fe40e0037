# Prod takes only what proved itself: the same version healthy in staging for an hour, an
# approval for prod by someone other than the deployer and the one who pushed the image, and
# no unsuppressed critical vulnerability.
package catalog.prod

import rego.v1

prod if input.deployment.environment == "prod"

deny contains msg if {
	prod
	object.get(input.healthy_seconds, "staging", 0) < 3600
	msg := sprintf("%s %s has not been healthy in staging for 1 h", [input.deployment.component, input.deployment.version])
}

deny contains msg if {
	prod
	not independent_approval
	msg := "needs an approval for prod by someone other than the deployer and the image's pusher"
}

independent_approval if {
	some a in input.approvals
	a.environment == "prod"
	a.decision == "approved"
	a.approver != input.deployment.actor
	a.approver != object.get(object.get(input, "image", {}), "recorded_by", "")
}

deny contains msg if {
	prod
	some v in input.vulnerabilities
	v.level == "critical"
	msg := sprintf("unsuppressed critical vulnerability %s in %s", [v.id, v.package])
}
