"""Several pollers, no shared lease, one database: each level of an incident is notified once."""

from __future__ import annotations

import threading
from datetime import timedelta

from dashboard.command import notifications
from dashboard.db.history import History
from tests.loopback_http import Reply, serve
from tests.unit.test_escalation import T0, incidents, job_for


def test_racing_pollers_notify_each_level_once(database_url):
    history = History(database_url)
    history.migrate()
    frame = incidents({"incident_id": "INC1", "priority": 1})
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        jobs = [job_for(base, history, frame) for _ in range(4)]  # each with leases of its own
        for now in (T0, T0 + timedelta(minutes=5)):
            start = threading.Barrier(len(jobs))

            def run(job, now=now, start=start):
                start.wait()
                job.run(now)

            threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert sorted(request.body["level"] for request in seen) == [1, 2]
    sent = notifications.for_incident(history.engine, "itsm", "INC1")
    assert sent[["level", "status", "attempts"]].values.tolist() == [[1, "sent", 1], [2, "sent", 1]]
    history.close()
