"""Kubernetes resources: paged lists from the API (through the transport every HTTP source shares),
exported files, and the base of the chaos sources that read resources (``litmus``, ``chaosmesh``).

Credentials come from a kubeconfig (``kubeconfig`` option, else ``$KUBECONFIG``, else
``~/.kube/config``; ``context`` picks one) or, with ``in_cluster: true``, from the pod's
service-account token. Supported kubeconfig credentials: ``token``, ``tokenFile``, client
certificates (file or ``-data``); the cluster's CA (file or ``-data``) or
``insecure-skip-tls-verify``. Decoded ``-data`` values go to private (0600) temporary files,
as the TLS library needs files.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import Field

from datasources.base import SourceError
from datasources.chaos import ChaosOptions, ChaosSource, IncrementalDirectory, RejectedFile
from datasources.options import TransportOptions
from datasources.transport import HttpClient, HttpError, transport_options

log = logging.getLogger(__name__)
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
PAGE_SIZE = 500


class NotServed(SourceError):
    """The API server does not serve this resource (its CRD is not installed)."""


def _named(entries: list[dict], name: str, what: str) -> dict:
    for entry in entries or []:
        if entry.get("name") == name:
            return entry.get(what) or {}
    raise SourceError(f"kubeconfig has no {what} named {name!r}")


def _file_or_data(section: dict, key: str, base: Path) -> str | None:
    """Path of ``key`` (relative to the kubeconfig) or of ``key-data`` decoded into a private file."""
    if section.get(key):
        return str((base / section[key]).expanduser())
    data = section.get(f"{key}-data")
    if not data:
        return None
    handle, name = tempfile.mkstemp(prefix="opscenter-kube-")
    with os.fdopen(handle, "wb") as out:
        out.write(base64.b64decode(data))
    return name


@dataclass
class KubeClient:
    """GET-only access to the Kubernetes API, through the transport every HTTP source shares."""

    http: HttpClient

    @classmethod
    def from_options(cls, options: dict[str, Any], source: str = "kubernetes") -> KubeClient:
        transport = transport_options(source, options)
        if options.get("in_cluster"):
            return cls.in_cluster(source, **transport)
        path = options.get("kubeconfig") or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
        return cls.from_kubeconfig(Path(path).expanduser(), options.get("context"), source, **transport)

    @classmethod
    def in_cluster(cls, source: str = "kubernetes", **transport) -> KubeClient:
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise SourceError("in_cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)")
        try:
            token = (SERVICE_ACCOUNT / "token").read_text().strip()
        except OSError as exc:
            raise SourceError(f"in_cluster: cannot read the service-account token: {exc}") from None
        host = f"[{host}]" if ":" in host else host
        return cls(
            HttpClient(
                source,
                f"https://{host}:{port}",
                tls_verify=str(SERVICE_ACCOUNT / "ca.crt"),
                headers={"Authorization": f"Bearer {token}"},
                **transport,
            )
        )

    @classmethod
    def from_kubeconfig(
        cls, path: Path, context: str | None = None, source: str = "kubernetes", **transport
    ) -> KubeClient:
        try:
            config = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SourceError(f"kubeconfig {path}: {exc}") from None
        context = context or config.get("current-context")
        if not context:
            raise SourceError(f"kubeconfig {path}: no context given and no current-context")
        ctx = _named(config.get("contexts"), context, "context")
        cluster = _named(config.get("clusters"), ctx.get("cluster"), "cluster")
        user = _named(config.get("users"), ctx.get("user"), "user") if ctx.get("user") else {}
        if user.get("exec") or user.get("auth-provider"):
            raise SourceError(f"kubeconfig {path}: exec and auth-provider credentials are not supported; use a token")
        base = path.parent
        token = user.get("token")
        if not token and user.get("tokenFile"):
            token = (base / user["tokenFile"]).expanduser().read_text().strip()
        ca = _file_or_data(cluster, "certificate-authority", base)
        verify: bool | str = False if cluster.get("insecure-skip-tls-verify") else (ca or True)
        cert_file = _file_or_data(user, "client-certificate", base)
        key_file = _file_or_data(user, "client-key", base)
        return cls(
            HttpClient(
                source,
                cluster["server"],
                tls_verify=verify,
                client_cert=(cert_file, key_file) if cert_file and key_file else None,
                headers={"Authorization": f"Bearer {token}"} if token else {},
                **transport,
            )
        )

    def list(self, group: str, version: str, plural: str, namespace: str | None = None) -> list[dict]:
        """Every item of a custom resource, across all namespaces unless one is given, page by page."""
        scope = f"namespaces/{namespace}/" if namespace else ""
        path = f"/apis/{group}/{version}/{scope}{plural}"
        items, token = [], None
        while True:
            try:
                body = self.http.get(path, {"limit": PAGE_SIZE, **({"continue": token} if token else {})})
            except HttpError as exc:
                if exc.status == 404:
                    raise NotServed(
                        f"{self.http.source}: GET {self.http.url(path)}: 404, {plural}.{group} is not served"
                    ) from None
                raise
            if not isinstance(body, dict):
                raise SourceError(f"{self.http.source}: GET {self.http.url(path)}: expected a Kubernetes list")
            items += body.get("items") or []
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return items


def exported_resources(path: Path) -> list[dict]:
    """The resources in an exported file: JSON or YAML (several documents allowed), lists unwrapped."""
    text = path.read_text(encoding="utf-8")
    try:
        documents = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise RejectedFile(f"not valid {path.suffix.lstrip('.').upper()}: {str(exc).splitlines()[0]}") from None
    resources = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise RejectedFile("expected Kubernetes resources (objects with a kind)")
        resources += document.get("items") or [] if "items" in document else [document]
    return resources


def resource_name(resource: dict) -> str:
    """``namespace/name`` of a resource, for messages and run ids."""
    meta = resource.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '?')}".lstrip("/")


class KubeOptions(ChaosOptions, TransportOptions):
    """Chaos resources from a directory of exported JSON/YAML (`path`) or from the Kubernetes API."""

    path: str | None = Field(
        None, description="A directory of exported resources, JSON or YAML (none: read the Kubernetes API)."
    )
    kubeconfig: str | None = Field(
        None, description="The kubeconfig file (none: `$KUBECONFIG`, else `~/.kube/config`)."
    )
    context: str | None = Field(None, description="The kubeconfig context (none: its current context).")
    in_cluster: bool = Field(False, description="Use the pod's service account instead of a kubeconfig.")
    namespaces: list[str] | None = Field(None, description="Namespaces to list (none: every namespace).")


@dataclass
class KubeChaosSource(ChaosSource):
    """Chaos resources from a directory of exported JSON/YAML (``path``) or from the Kubernetes API.

    Subclasses name their ``resources`` as (group, version, plural, kind) and turn one
    resource into a run record with ``record``. A resource that cannot be read is
    rejected alone, by file or by ``namespace/name``.
    """

    resources: ClassVar[tuple[tuple[str, str, str, str], ...]] = ()
    options_model = KubeOptions

    def __post_init__(self):
        super().__post_init__()
        path = self.config.path
        self._files = (
            IncrementalDirectory(Path(path).expanduser(), ("*.json", "*.yaml", "*.yml"), self._parse_file)
            if path
            else None
        )
        self._client: KubeClient | None = None
        self._bad: dict[str, str] = {}

    def record(self, resource: dict) -> dict:
        raise NotImplementedError

    def _record_or_reject(self, resource: dict) -> dict:
        try:
            return self.record(resource)
        except RejectedFile as exc:
            raise RejectedFile(f"{resource_name(resource)}: {exc}") from None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise RejectedFile(f"{resource_name(resource)}: unexpected shape ({type(exc).__name__}: {exc})") from None

    def _parse_file(self, path: Path) -> list[dict]:
        return [self._record_or_reject(r) for r in exported_resources(path)]

    @property
    def rejected(self) -> dict[str, str]:
        return self._files.rejected if self._files else dict(self._bad)

    def _listed(self) -> list[dict]:
        self._client = self._client or KubeClient.from_options(self.options, self.name)
        items, served = [], 0
        for group, version, plural, kind in self.resources:
            try:
                found = [
                    self._client.list(group, version, plural, namespace)
                    for namespace in self.config.namespaces or [None]
                ]
            except NotServed:
                continue
            served += 1
            items += [{"kind": kind, **item} for listed in found for item in listed]
        if not served:
            raise SourceError(f"the API server serves none of {', '.join(r[2] + '.' + r[0] for r in self.resources)}")
        return items

    def records(self) -> list[dict]:
        if self._files:
            return self._files.read()
        records, bad = [], {}
        for item in self._listed():
            try:
                records.append(self._record_or_reject(item))
            except RejectedFile as exc:
                bad[resource_name(item)] = str(exc)
        for reason in set(bad.values()) - set(self._bad.values()):
            log.warning("rejected %s", reason)
        self._bad = bad
        return records
