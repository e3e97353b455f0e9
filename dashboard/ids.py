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
DRILL_NAV = "oc-drill-nav"              # location the drill-down pages navigate with
DRILL_PROBLEM = "oc-drill-problem"      # the not-found / bad-request message
CHAIN_STATE = "oc-chain-state"
CHAIN_STEPS = "oc-chain-steps"
CHAIN_BOTTLENECK = "oc-chain-bottleneck"
CHAIN_FIGURE = "oc-chain-figure"
SERVICE_STATE = "oc-service-state"
SERVICE_TIMELINE = "oc-service-timeline"
SERVICE_INSTANCES = "oc-service-instances"
SERVICE_CALLS = "oc-service-calls"
SERVICE_EVENTS = "oc-service-events"
TRACE_STATE = "oc-trace-state"
TRACE_VERDICT = "oc-trace-verdict"
TRACE_WATERFALL = "oc-trace-waterfall"
TRACE_RESOURCES = "oc-trace-resources"
