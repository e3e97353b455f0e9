"""Every component id, in one place."""

TICK = "oc-tick"                # the one dcc.Interval
VERSIONS = "oc-versions"        # store: frame versions per source
NAV = "oc-nav"
WALL_BODY = "oc-wall-body"
WALL_STATUS = "oc-wall-status"
SOURCES_GRID = "oc-sources-grid"
SOURCES_SUMMARY = "oc-sources-summary"
SHELL = "oc-shell"
PLAYLISTS = "oc-playlists"      # store: the config's playlists
PLAYLIST_NAV = "oc-playlist-nav"  # location the playlist rotation navigates with
WALL_LANG = "oc-wall-lang"
WALL_MODEL = "oc-wall-model"    # store: the tile model the browser draws tiles from
WALL_KEYS = "oc-wall-keys"      # store: what the browser already shows, per panel
WALL_CHAINS = "oc-wall-chains"
WALL_MARKETS = "oc-wall-markets"
WALL_BANNER = "oc-wall-banner"
WALL_INCIDENTS = "oc-wall-incidents"
WALL_INCIDENT_COUNT = "oc-wall-incident-count"
WALL_CHANGES = "oc-wall-changes"
WALL_CHAOS = "oc-wall-chaos"
# pattern-matching types
PANEL = "oc-panel"              # {"type": PANEL, "panel": name}: greyed when stale
STALE_LABEL = "oc-stale-label"  # {"type": STALE_LABEL, "panel": name}
KPI_VALUE = "oc-kpi-value"      # {"type": KPI_VALUE, "panel": name}
KPI_COUNT = "oc-kpi-count"
WALL_SESSIONS = "oc-wall-sessions"  # store: the market sessions shown
PAGES_LOCATION = "_pages_location"  # the location of dash.page_container
