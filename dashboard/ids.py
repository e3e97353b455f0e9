"""Every component id, in one place."""

TICK = "oc-tick"                # the one dcc.Interval
VERSIONS = "oc-versions"        # store: frame versions per source
NAV = "oc-nav"
WALL_BODY = "oc-wall-body"
WALL_STATUS = "oc-wall-status"
SOURCES_GRID = "oc-sources-grid"
SOURCES_SUMMARY = "oc-sources-summary"
CHAOS_BODY = "oc-chaos-body"
