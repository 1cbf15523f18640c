# Acervo's default policy (embedded in the binary; `policy.file` replaces it).
#
# Input of `allow`:
#   principal  {name, roles: [role], project_roles: {slug: [role]}}
#   action     asset_read | asset_create | asset_edit | asset_delete | asset_archive |
#              asset_publish | asset_transition | collection_edit | collection_restrict |
#              audit_read | administer
#   resource   {project, editorial_status, collections: [id]}; no project for actions
#              that concern no project (the audit trail, administration)
#   transition {from, to} for asset_transition
# Input of `scope`: principal. It must yield {grants: [{project, statuses}],
# hidden_collections: [id]} (null project: every project; null statuses: every status),
# and it must agree with `allow` for asset_read: Acervo filters every listing, search and
# SQL query with it instead of asking `allow` row by row.
# Data: data.acervo_directory.restricted = {collection id: {project, granted: [user]}}, the
# restricted collections (their own or an ancestor's restriction) and who was granted them.
package acervo

import rego.v1

# What each role allows in the projects it applies in (every project for a role of the
# principal's `roles`, one project for a membership).
role_allows := {
	"viewer": {"asset_read"},
	"editor": {"asset_read", "asset_create", "asset_edit", "asset_delete", "asset_transition", "collection_edit"},
	"producer": {
		"asset_read", "asset_create", "asset_edit", "asset_delete", "asset_publish",
		"asset_transition", "collection_edit", "collection_restrict",
	},
	"archivist": {"asset_read", "asset_delete", "asset_archive", "asset_transition"},
}

# The workflow moves each role may make (the moves themselves are Acervo's to define).
role_moves := {
	"editor": {["draft", "in_review"], ["in_review", "draft"]},
	"producer": {
		["draft", "in_review"], ["in_review", "draft"], ["in_review", "approved"],
		["approved", "in_review"], ["approved", "published"], ["published", "approved"],
		["published", "archived"], ["archived", "published"],
	},
	"archivist": {["published", "archived"], ["archived", "published"]},
}

# Roles that read every editorial status; a viewer reads published assets only.
full_readers := {"editor", "producer", "archivist", "admin"}

is_admin if "admin" in input.principal.roles

# The roles that apply to the resource: the principal's everywhere, and those of its project.
applying contains r if some r in input.principal.roles

applying contains r if some r in input.principal.project_roles[input.resource.project]

default allow := false

allow if is_admin

# Actions of no project: roles that apply everywhere only.
allow if {
	not input.resource.project
	not input.action in {"asset_read", "asset_transition"}
	some r in input.principal.roles
	input.action in role_allows[r]
}

allow if {
	input.resource.project
	not input.action in {"asset_read", "asset_transition"}
	some r in applying
	input.action in role_allows[r]
}

allow if {
	input.action == "asset_read"
	some r in applying
	reads(r, object.get(input.resource, "editorial_status", "draft"))
	not hidden
}

allow if {
	input.action == "asset_transition"
	some r in applying
	[input.transition.from, input.transition.to] in role_moves[r]
}

reads(r, _) if r in full_readers

reads("viewer", "published") := true

# In a restricted collection the principal was not granted.
hidden if {
	some c in object.get(input.resource, "collections", [])
	info := data.acervo_directory.restricted[c]
	not input.principal.name in info.granted
}

# ---- the read scope, as data ----

grants contains {"project": null, "statuses": null} if {
	some r in input.principal.roles
	r in full_readers
}

grants contains {"project": null, "statuses": ["published"]} if "viewer" in input.principal.roles

grants contains {"project": p, "statuses": null} if {
	some p, rs in input.principal.project_roles
	some r in rs
	r in full_readers
}

grants contains {"project": p, "statuses": ["published"]} if {
	some p, rs in input.principal.project_roles
	"viewer" in rs
}

hidden_collections contains c if {
	not is_admin
	some c, info in data.acervo_directory.restricted
	not input.principal.name in info.granted
}

scope := {"grants": grants, "hidden_collections": hidden_collections}
