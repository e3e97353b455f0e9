"""litmus and chaosmesh through the Kubernetes API path, against a loopback server that
answers with recorded list responses (paged, as the API server does with ``limit``)."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from datasources.base import SourceError
from datasources.chaos.chaosmesh import ChaosMeshSource
from datasources.chaos.kubernetes import KubeClient, exported_resources
from datasources.chaos.litmus import LitmusSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOKEN = "test-token-of-a-service-account"


def _without_kind(items):
    """API list items as a server may send them: no kind or apiVersion on each item."""
    return [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items]


def _served() -> dict[str, list[dict]]:
    mesh = exported_resources(FIXTURES / "chaosmesh" / "experiments.yaml")
    mesh += exported_resources(FIXTURES / "chaosmesh" / "stuck-and-unselected.json")
    litmus = exported_resources(FIXTURES / "litmus" / "chaosresults.yaml")
    litmus += exported_resources(FIXTURES / "litmus" / "stopped.json")
    by_kind = {}
    for item in mesh:
        by_kind.setdefault(item["kind"].lower(), []).append(item)
    served = {f"/apis/chaos-mesh.org/v1alpha1/{plural}": _without_kind(items) for plural, items in by_kind.items()}
    served["/apis/litmuschaos.io/v1alpha1/chaosresults"] = litmus
    served["/apis/chaos-mesh.org/v1alpha1/namespaces/trading/podchaos"] = [
        i for i in served["/apis/chaos-mesh.org/v1alpha1/podchaos"] if i["metadata"]["namespace"] == "trading"
    ]
    return served


@pytest.fixture(scope="module")
def api():
    """A loopback API server: a page of two items at a time; 404 for unserved resources; 401 without the token."""
    served, seen = _served(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            seen.append((url.path, self.headers.get("Authorization"), query))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"kind": "Status", "reason": "Unauthorized"})
            if url.path not in served:
                return self._answer(404, {"kind": "Status", "reason": "NotFound"})
            start = int(query.get("continue", ["0"])[0])
            items = served[url.path][start : start + 2]
            more = start + 2 < len(served[url.path])
            self._answer(
                200, {"kind": "List", "items": items, "metadata": {"continue": str(start + 2)} if more else {}}
            )

        def _answer(self, code, body):
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def kubeconfig(tmp_path, server, **user) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "test",
        "clusters": [{"name": "loop", "cluster": {"server": server}}],
        "users": [{"name": "reader", "user": user or {"token": TOKEN}}],
        "contexts": [{"name": "test", "context": {"cluster": "loop", "user": "reader"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_litmus_from_the_api_pages_through_the_list(api, tmp_path):
    server, seen = api
    source = LitmusSource(name="litmus", options={"kubeconfig": kubeconfig(tmp_path, server)})
    frame = source.fetch(None)["chaos_runs"]
    assert sorted(frame["status"]) == ["aborted", "failed", "passed", "running"]
    pages = [q.get("continue", [None])[0] for p, _a, q in seen if p.endswith("/chaosresults")]
    assert pages[-2:] == [None, "2"] and all(a == f"Bearer {TOKEN}" for _p, a, _q in seen)


def test_chaosmesh_from_the_api_skips_kinds_not_served(api, tmp_path):
    server, _seen = api
    source = ChaosMeshSource(name="mesh", options={"kubeconfig": kubeconfig(tmp_path, server)})
    runs = source.fetch(None)["chaos_runs"].set_index("experiment")
    assert runs["status"].to_dict() == {
        "gateway-delay": "running",
        "quote-pod-kill": "passed",
        "kyc-pod-failure": "not_run",
        "ledger-cpu": "failed",
    }
    assert source.rejected == {}


def test_namespaces_and_token_file(api, tmp_path):
    server, seen = api
    (tmp_path / "token").write_text(TOKEN + "\n")
    source = ChaosMeshSource(
        name="mesh",
        options={
            "kubeconfig": kubeconfig(tmp_path, server, tokenFile="token"),
            "namespaces": ["trading"],
            "kinds": ["podchaos"],
        },
    )
    assert list(source.fetch(None)["chaos_runs"]["experiment"]) == ["quote-pod-kill"]
    assert seen[-1][0] == "/apis/chaos-mesh.org/v1alpha1/namespaces/trading/podchaos"


def test_unauthorized_and_unserved_are_source_errors(api, tmp_path):
    server, _seen = api
    wrong = LitmusSource(name="litmus", options={"kubeconfig": kubeconfig(tmp_path, server, token="wrong")})
    with pytest.raises(SourceError, match="HTTP 401"):
        wrong.fetch(None)
    assert not wrong.check().ok
    unserved = ChaosMeshSource(name="mesh", options={"kubeconfig": kubeconfig(tmp_path, server), "kinds": ["dnschaos"]})
    with pytest.raises(SourceError, match="serves none of dnschaos.chaos-mesh.org"):
        unserved.fetch(None)


def test_kubeconfig_problems(tmp_path, monkeypatch):
    with pytest.raises(SourceError, match="not supported"):
        KubeClient.from_kubeconfig(Path(kubeconfig(tmp_path, "https://k8s.invalid", exec={"command": "aws"})))
    with pytest.raises(SourceError, match="no context named 'prod'"):
        KubeClient.from_kubeconfig(Path(kubeconfig(tmp_path, "https://k8s.invalid")), "prod")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(SourceError, match="KUBERNETES_SERVICE_HOST"):
        KubeClient.from_options({"in_cluster": True})


def test_certificate_data_goes_to_private_files(tmp_path):
    user = {
        "client-certificate-data": base64.b64encode(b"CERT").decode(),
        "client-key-data": base64.b64encode(b"KEY").decode(),
    }
    client = KubeClient.from_kubeconfig(Path(kubeconfig(tmp_path, "https://k8s.invalid/", **user))).http
    try:
        assert client.base_url == "https://k8s.invalid" and "Authorization" not in client.headers
        assert [Path(p).read_bytes() for p in client.client_cert] == [b"CERT", b"KEY"]
        assert all(Path(p).stat().st_mode & 0o077 == 0 for p in client.client_cert)
    finally:
        for name in client.client_cert:
            Path(name).unlink()
