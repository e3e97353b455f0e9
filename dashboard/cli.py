"""The ``opscenter`` command: run, poll, snapshot, check, prometheus-rules, token, user."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from dashboard.core.settings import ConfigError, Settings, load
from dashboard.security import access_cli as accesscli
from dashboard.security import redact, serving
from datasources import registry
from datasources.base import FRAME_NAMES, SourceError

log = logging.getLogger("opscenter")


def _sources(settings: Settings):
    try:
        return [registry.build(spec) for spec in settings.sources]
    except (SourceError, KeyError, ValueError) as exc:
        raise ConfigError(f"{settings.path}: sources: {exc}") from None


def _poller(settings: Settings, store, with_history: bool = True, wait_for_models: bool = False):
    from dashboard.core.calendar_config import LiveCalendar
    from dashboard.core.derived import DerivedFrames
    from dashboard.core.poller import Poller
    from dashboard.db.history import History

    history = None
    if with_history:
        history = History(settings.database_url)
        history.migrate()
    sources = _sources(settings)
    sources += _oncall(settings, sources)
    if history is not None:
        from dashboard.command.source import CommandSource
        from dashboard.core.store import COMMAND_SOURCE

        target = next((s for s in sources if s.name == settings.command.declare_to), None)
        sources.append(CommandSource(COMMAND_SOURCE, settings.command.interval_s, engine=history.engine, target=target))
    live = LiveCalendar(settings)
    derived = DerivedFrames(
        store,
        history,
        health=settings.health,
        closures=live.closures,
        freeze_rules=_freeze_rules(settings, live),
        slo_settings=settings.slo,
        first_wait_s=None if wait_for_models else 0,
    )
    poller = Poller(sources, store, history, derived=derived)
    poller.publish_config(settings.chains)
    if history is not None:
        from dashboard.command import preplans
        from dashboard.command.writeback import WritebackJob
        from dashboard.maturity import model as catalogue
        from dashboard.maturity.evidence_job import EvidenceJob

        poller.after_polls.append(
            EvidenceJob(
                catalogue.load(settings.maturity.catalogue),
                store,
                history,
                settings.maturity.evaluate_every_min * 60,
                poller.leases,
                preplans.load(settings.preplans.path, settings.display_tz),
            )
        )
        poller.after_polls.append(WritebackJob(poller.sources, history.engine, poller.leases))
        if settings.notifications is not None:
            from dashboard.command.escalation import EscalationJob

            poller.after_polls.append(
                EscalationJob(
                    settings.notifications,
                    history.engine,
                    poller.leases,
                    lambda: store.frame("incidents"),
                    settings.display_tz,
                    settings.language,
                    _on_call_answer(store) if any(s.kind == "oncall" for s in sources) else None,
                )
            )
    return poller


def _oncall(settings: Settings, sources: list) -> list:
    """The reader of the roster's ITSM on-call groups, when a configured source can read them."""
    from dashboard.command.oncall import OnCallSource
    from dashboard.core.store import ONCALL_SOURCE

    notify = settings.notifications
    readers = {s.name: s for s in sources if getattr(s, "reads_on_call", False)}
    if notify is None or not readers:
        return []
    return [OnCallSource(ONCALL_SOURCE, notify.oncall_interval_s, roster=notify.current_roster, readers=readers)]


def _on_call_answer(store):
    """The on-call groups as last read, from the store (as the wall reads them)."""
    from dashboard.command.roster import on_call_answer
    from dashboard.core.store import ONCALL_SOURCE

    return lambda now: on_call_answer(store.frame("on_call"), store.status(ONCALL_SOURCE), now)


def _freeze_rules(settings: Settings, live):
    """What is frozen, as the derived step asks for it: the config's ``freeze:`` section, each service's market
    from the grading table, the markets shown and the closures declared at that moment."""
    from dashboard.analytics import freeze
    from dashboard.command import grading

    table = grading.load(settings.grading_table)

    def rules() -> freeze.Rules:
        markets = {spec.key: spec for spec in live.markets}
        return freeze.Rules(
            settings.freeze.sessions,
            settings.freeze.windows,
            table.market,
            table.service_markets,
            markets,
            live.closures(),
        )

    return rules


def cmd_run(args) -> int:
    """Serve the dashboard with the poller in the same process."""
    from dashboard.app import create_app
    from dashboard.core.store import open_store

    settings = load(args.config)
    store = open_store(settings.redis_url, settings.deployment, settings.source_names, settings.frame_limit_mb)
    poller = _poller(settings, store)
    poller.start()
    app = create_app(settings, store)
    log.info("serving on http://%s:%d", args.host, args.port)
    try:
        app.run(host=args.host, port=args.port, debug=False, request_handler=serving.RequestHandler)
    finally:
        poller.stop()
    return 0


def cmd_poll(args) -> int:
    """Poll the sources into the shared store until stopped (SIGTERM or Ctrl-C), serving the poll
    metrics on ``--metrics-host:--metrics-port`` unless the port is 0."""
    from dashboard.core import metrics
    from dashboard.core.store import open_store

    settings = load(args.config)
    store = open_store(settings.redis_url, settings.deployment, settings.source_names, settings.frame_limit_mb)
    poller = _poller(settings, store)
    if args.metrics_port:
        try:
            metrics.serve(args.metrics_host, args.metrics_port)
        except OSError as exc:
            print(f"opscenter: cannot serve metrics on {args.metrics_host}:{args.metrics_port}: {exc}", file=sys.stderr)
            return 2
        log.info("poll metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    signal.signal(signal.SIGTERM, lambda *_: poller.stop())
    log.info("polling %d source(s) into the %s store", len(poller.sources), store.backend)
    try:
        poller.run()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_snapshot(args) -> int:
    """Poll every source once and write each contract frame as DIR/<frame>.parquet."""
    from dashboard.core.status import status_frame
    from dashboard.core.store import open_store

    settings = load(args.config)
    store = open_store(None, settings.deployment, settings.source_names, settings.frame_limit_mb)
    poller = _poller(settings, store, with_history=False, wait_for_models=True)
    statuses = [poller.poll(source) for source in poller.sources]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in FRAME_NAMES:
        frame = status_frame(statuses) if name == "source_status" else store.frame(name)
        frame.to_parquet(out / f"{name}.parquet", index=False)
    failed = [s for s in statuses if not s["ok"]]
    for status in failed:
        print(f"source {status['source']} failed: {status['error']}", file=sys.stderr)
    print(f"wrote {len(FRAME_NAMES)} frames to {out}")
    return 1 if failed else 0


def cmd_check(args) -> int:
    """Validate the config and ping every source; non-zero exit on any problem."""
    from dashboard.command import preplans

    settings = load(args.config)
    library = preplans.load(settings.preplans.path, settings.display_tz)
    for error in library.errors:
        print(f"FAIL pre-plan: {error}")
    problems = len(library.errors)
    for source in _sources(settings):
        health = source.check()
        problems += not health.ok
        print(f"{'ok  ' if health.ok else 'FAIL'} {source.name} ({source.kind}): {health.detail}")
    print(
        f"config {settings.path}: {len(settings.sources)} source(s), {len(library.plans)} pre-plan version(s), "
        f"{problems} problem(s)"
    )
    return 1 if problems else 0


def cmd_prometheus_rules(args) -> int:
    """Print the recording rules of the config's Prometheus sources (all, or those named by ``--source``)."""
    from datasources.monitoring.prometheus import PrometheusSource, rules_file

    sources = [s for s in _sources(load(args.config)) if isinstance(s, PrometheusSource)]
    named = [s for s in sources if not args.source or s.name in args.source]
    missing = sorted(set(args.source or ()) - {s.name for s in named})
    if missing or not named:
        known = ", ".join(s.name for s in sources) or "none"
        print(
            f"opscenter: no Prometheus source {', '.join(missing) or 'in the config'}; the config's: {known}",
            file=sys.stderr,
        )
        return 2
    try:
        sys.stdout.write(rules_file(named))
    except SourceError as exc:
        print(f"opscenter: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_demo_exporter(args) -> int:
    """Serve the demo estate as OpenMetrics on /metrics until stopped."""
    from datasources.demo.exporter import serve

    server = serve(args.port, args.host, seed=args.seed, services=args.services)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("demo exporter on http://%s:%d/metrics", args.host, args.port)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opscenter", description="Operations command center.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text, parent=sub):
        cmd = parent.add_parser(name, help=help_text)
        cmd.add_argument("--config", help="config file (default: $OPSCENTER_CONFIG, else the built-in demo)")
        cmd.set_defaults(func=func)
        return cmd

    run = add("run", cmd_run, "serve the dashboard with the poller in-process")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8050)
    poll = add("poll", cmd_poll, "run the poller alone (production)")
    poll.add_argument("--metrics-host", default="127.0.0.1", help="address of the poll metrics (default: %(default)s)")
    poll.add_argument(
        "--metrics-port",
        type=int,
        default=9465,
        help="port of the poll metrics on /metrics, 0 for none (default: %(default)s)",
    )
    add("snapshot", cmd_snapshot, "poll every source once and write parquet frames").add_argument(
        "--out", required=True, help="output directory"
    )
    add("check", cmd_check, "validate the config and ping every source")
    add("prometheus-rules", cmd_prometheus_rules, "print the recording rules of the Prometheus sources").add_argument(
        "--source", action="append", help="a Prometheus source's name (repeatable; default: every one)"
    )
    accesscli.add_commands(sub, add)
    exporter = sub.add_parser("demo-exporter", help="serve the demo estate as Prometheus metrics (OpenMetrics)")
    exporter.add_argument("--host", default="127.0.0.1")
    exporter.add_argument("--port", type=int, default=9464)
    exporter.add_argument("--seed", type=int, default=42)
    exporter.add_argument("--services", type=int, help="size of the estate (default: the built-in services)")
    exporter.set_defaults(func=cmd_demo_exporter)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact.install()
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"opscenter: config error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
