"""Benchmark: round trips and latency of a full Test Connection, cold and warm.

Starts a real docker-registry with token auth (our token server) on 127.0.0.1, pushes an image,
then times full checks: cold (new probe: DNS, TCP, TLS-or-not, ping, token, HEAD, platform) and
warm (token cached, auth scheme known, platform known by digest). Goal: ≤ 3 HTTP round trips cold
for the protocol part of a Bearer registry, ≤ 1 warm.
Usage: .venv/bin/python bench/registry_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.images import ChallengeAuth, push_image, push_index  # noqa: E402
from tests.support.registry_server import RegistryServer  # noqa: E402
from tests.support.token_server import TokenServer  # noqa: E402

from vectis_admin.adapters.registry.ecr import EcrTokenProvider  # noqa: E402
from vectis_admin.adapters.registry.probe import RegistryProbe  # noqa: E402
from vectis_admin.domain.checks import ProbeTarget  # noqa: E402
from vectis_admin.domain.network_policy import NetworkPolicy  # noqa: E402
from vectis_admin.domain.registries import RegistryKind, TlsMode  # noqa: E402


def now() -> datetime:
    return datetime.now(UTC)


def probe() -> RegistryProbe:
    return RegistryProbe(policy=NetworkPolicy(), clock=now, ecr=EcrTokenProvider(clock=now))


def line(label: str, samples: list[float], trips: list[int]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"{label:46} round trips {min(trips)}–{max(trips)}  "
        f"p50 {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    with (
        TokenServer(
            users={"pusher": "bench-push", "reader": "bench-read"},
            acl={"pusher": {"*": ["pull", "push"]}, "reader": {"*": ["pull"]}},
        ) as tokens,
        RegistryServer(token_server=tokens) as registry,
    ):
        with httpx.Client(auth=ChallengeAuth("pusher", "bench-push"), trust_env=False) as http:
            push_index(registry.url, "vectis/server", "index", client=http)
            push_image(registry.url, "vectis/server", "single", client=http)
        for tag in ("index", "single"):
            target = ProbeTarget(
                label="bench",
                kind=RegistryKind.GENERIC,
                host=registry.host,
                tls_mode=TlsMode.PLAIN_HTTP,
                ca_bundle=None,
                credentials={"username": "reader", "password": "bench-read"},
                repository="vectis/server",
                reference=tag,
            )
            cold_t, cold_n, warm_t, warm_n = [], [], [], []
            for _ in range(runs):
                fresh = probe()
                start = time.perf_counter()
                report = fresh.check(target, warm=True)
                cold_t.append(time.perf_counter() - start)
                cold_n.append(report.round_trips)
                assert report.ok, report.summary
                start = time.perf_counter()
                report = fresh.check(target, warm=True)
                warm_t.append(time.perf_counter() - start)
                warm_n.append(report.round_trips)
                fresh.forget()
            kind = "OCI index" if tag == "index" else "single manifest"
            line(f"cold check, {kind}", cold_t, cold_n)
            line(f"warm check, {kind}", warm_t, warm_n)
        print(
            "cold round trips = ping + token + HEAD (3), + 1 GET for an index's platforms or\n"
            "2 GETs (manifest, config blob) for a single manifest's platform, first time a digest\n"
            "is seen; DNS, TCP and TLS probes are separate socket steps, not HTTP round trips."
        )


if __name__ == "__main__":
    main()
