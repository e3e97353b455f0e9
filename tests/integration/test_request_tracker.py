"""Request Tracker 5 for real: tickets created, updated and resolved through REST2, read back by the adapter."""

import logging
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
import requests

from datasources.itsm.request_tracker import RequestTrackerSource
from tests.conftest import free_port, need

SETUP = Path("/usr/sbin/rt-setup-database")
SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
AUTH = ("root", "password")  # the password rt-setup-database gives root
SITE_CONFIG = """
Set($rtname, 'opscenter-test');
Set($Organization, 'opscenter.test');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {port});
Set($WebBaseURL, 'http://127.0.0.1:{port}');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{dir}/rt.sqlite');
Set($Timezone, 'UTC');
Set($LogToSTDERR, 'warning');
Set($LogToSyslog, undef);
Set($MasonDataDir, '{dir}/mason');
Set($MasonSessionDir, '{dir}/sessions');
1;
"""
INITIAL_DATA = """
@Queues = ({ Name => 'Incidents', Description => 'Production incidents' });
@CustomFields = ({ Name => 'Service', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
                   Queue => ['Incidents'] });
1;
"""


@pytest.fixture(scope="session")
def rt_url(tmp_path_factory):
    """A Request Tracker 5 on SQLite in a temp dir, served standalone on a free loopback port."""
    if not (SETUP.exists() and SERVER.exists()):
        need("Request Tracker 5", "install request-tracker5 rt5-db-sqlite rt5-standalone")
    home, port = tmp_path_factory.mktemp("rt"), free_port()
    for name in ("mason", "sessions", "empty"):
        (home / name).mkdir()
    (home / "RT_SiteConfig.pm").write_text(SITE_CONFIG.format(port=port, dir=home))
    (home / "initialdata").write_text(INITIAL_DATA)
    env = {**os.environ, "RT_SITE_CONFIG": str(home / "RT_SiteConfig.pm"), "RT_SITE_CONFIG_DIR": str(home / "empty")}
    for extra in ([], ["--action", "insert", "--datafile", str(home / "initialdata")]):
        args = [str(SETUP), "--action", "init", "--skip-create"] if not extra else [str(SETUP), *extra, "--skip-create"]
        subprocess.run(args, env=env, check=True, capture_output=True, timeout=120)
    log = open(home / "server.log", "wb")
    server = subprocess.Popen(
        [str(SERVER), "--server", "Standalone", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/REST/2.0/queues/all", auth=AUTH, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"rt-server did not answer: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def rest(url, method, path, body):
    response = requests.request(method, f"{url}/REST/2.0/{path}", json=body, auth=AUTH, timeout=10)
    response.raise_for_status()
    return response.json()


def create(url, subject, priority, service):
    body = {"Queue": "Incidents", "Subject": subject, "Priority": priority, "CustomFields": {"Service": service}}
    return rest(url, "POST", "ticket", body)["id"]


def now():
    return datetime.now(UTC)


def test_tickets_created_updated_and_resolved_read_back(rt_url, caplog):
    source = RequestTrackerSource(
        name="rt",
        options={
            "url": rt_url,
            "username": AUTH[0],
            "password": AUTH[1],
            "page_size": 2,
            "priority_map": {"Urgent": 1},
        },
    )
    down = create(rt_url, "Order submissions failing", "High", "order-gateway")
    slow = create(rt_url, "Quotes slow", "Medium", "quote-service")
    odd = create(rt_url, "Odd priority", 42, "ledger")
    rest(rt_url, "PUT", f"ticket/{slow}", {"Status": "open"})

    with caplog.at_level(logging.WARNING):
        first = source.fetch(now())["incidents"].set_index("incident_id")
    assert f"rt: incidents record RT-{odd} rejected: priority '42'" in caplog.text
    assert {f"RT-{down}", f"RT-{slow}"} <= set(first.index) and f"RT-{odd}" not in first.index
    new = first.loc[f"RT-{down}"]
    assert (new.state, new.priority, new.service, new.assignment_group) == ("new", 2, "order-gateway", "Incidents")
    assert pd.isna(new.acknowledged_at) and pd.isna(new.resolved_at)  # RT's 1970-01-01 means unset
    assert new.url == f"{rt_url}/Ticket/Display.html?id={down}"
    assert first.loc[f"RT-{slow}", "state"] == "in_progress" and not pd.isna(first.loc[f"RT-{slow}", "acknowledged_at"])

    rest(rt_url, "PUT", f"ticket/{down}", {"Status": "open"})
    rest(rt_url, "PUT", f"ticket/{down}", {"Status": "resolved"})
    second = source.fetch(now() + timedelta(seconds=1))["incidents"].set_index("incident_id")
    done = second.loc[f"RT-{down}"]
    assert done.state == "resolved" and done.acknowledged_at <= done.resolved_at
    assert len(second) == len(first)


def test_polls_after_the_first_ask_only_for_recent_updates(rt_url):
    source = RequestTrackerSource(
        name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1], "overlap_s": 0}
    )
    queries = []
    send = source.transport.get

    def recorded(path, params=None):
        queries.append(f"{source.transport.url(path)}?{urlencode(params or {}, doseq=True)}")
        return send(path, params)

    source.transport.get = recorded
    create(rt_url, "Ledger postings delayed", "Low", "ledger")
    time.sleep(1.1)  # LastUpdated has whole seconds
    first = source.fetch(now())["incidents"]
    time.sleep(1.1)
    later = create(rt_url, "Margin calls late", "High", "margin-core")
    second = source.fetch(now())["incidents"]
    assert f"RT-{later}" in set(second["incident_id"]) and len(second) == len(first) + 1
    fetched = requests.get(queries[-1], auth=AUTH, timeout=10).json()
    assert [item["id"] for item in fetched["items"]] == [str(later)]  # the second poll saw only the new ticket
