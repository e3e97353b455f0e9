"""The app on the built-in demo config, its store filled by one synchronous poll of every source."""

from dashboard.app import create_app
from dashboard.core.poller import Poller, utcnow
from dashboard.core.settings import load
from dashboard.core.store import open_store
from datasources import registry


def polled_demo_app(clock=utcnow, derived=None):
    """Build the demo app after one poll at ``clock()``, its pages on the same clock; ``derived(store)`` builds
    the derived step."""
    settings = load()
    store = open_store(None, settings.deployment, settings.source_names)
    poller = Poller(
        [registry.build(spec) for spec in settings.sources],
        store,
        clock=clock,
        derived=derived(store) if derived else None,
    )
    poller.publish_config(settings.chains)
    for source in poller.sources:
        poller.poll(source)
    return create_app(settings, store, clock=clock)
