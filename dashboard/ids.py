"""Every component id, in one place."""

TICK = "oc-tick"                # the one dcc.Interval
VERSIONS = "oc-versions"        # store: frame versions per source
NAV = "oc-nav"
WALL_BODY = "oc-wall-body"
WALL_STATUS = "oc-wall-status"
SOURCES_GRID = "oc-sources-grid"
SOURCES_SUMMARY = "oc-sources-summary"
INCIDENTS_BODY = "oc-incidents-body"
INCIDENT_BODY = "oc-incident-body"
INCIDENT_TIMELINE = "oc-incident-timeline"
INCIDENT_DETAILS = "oc-incident-details"
CHAOS_BODY = "oc-chaos-body"
