"""Golden test: our pull Secret is what `kubectl create secret docker-registry` prints.

Each fixture below is the literal output of (kubectl v1.32.4, re-serialised compactly):

    kubectl create secret docker-registry NAME [--docker-server=S] \\
        --docker-username=U --docker-password=P --dry-run=client -o json

`--docker-server` is `auths_key_for(host)`; for Docker Hub it is left out, so kubectl's own
default `https://index.docker.io/v1/` applies. The last password exercises Go's JSON escaping
(`<`, `>`, `&` as \\u003c…, `"` and `\\`, raw UTF-8, U+2028 escaped). Our Secret adds a
namespace, labels and annotations to `metadata`; everything else must be equal.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from vectis_admin.domain.manifests import pull_secret

HUB_ID = "11111111-1111-4111-8111-111111111111"
GHCR_ID = "22222222-2222-4222-8222-222222222222"
LOCAL_ID = "33333333-3333-4333-8333-333333333333"
ECR_ID = "44444444-4444-4444-8444-444444444444"
HARBOR_ID = "55555555-5555-4555-8555-555555555555"

# kubectl create secret docker-registry registry-secret-1111… \
#   --docker-username=vectis-bot --docker-password=fake-hub-password-1
KUBECTL_DOCKER_HUB = (
    '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"registry-secret-11111111-1111-4111-'
    '8111-111111111111","creationTimestamp":null},"data":{".dockerconfigjson":"eyJhdXRocyI6eyJo'
    "dHRwczovL2luZGV4LmRvY2tlci5pby92MS8iOnsidXNlcm5hbWUiOiJ2ZWN0aXMtYm90IiwicGFzc3dvcmQiOiJmYW"
    "tlLWh1Yi1wYXNzd29yZC0xIiwiYXV0aCI6ImRtVmpkR2x6TFdKdmREcG1ZV3RsTFdoMVlpMXdZWE56ZDI5eVpDMHgi"
    'fX19"},"type":"kubernetes.io/dockerconfigjson"}'
)
# … --docker-server=ghcr.io --docker-username=octo-bot --docker-password=not-a-real-ghcr-token
KUBECTL_GHCR = (
    '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"registry-secret-22222222-2222-4222-'
    '8222-222222222222","creationTimestamp":null},"data":{".dockerconfigjson":"eyJhdXRocyI6eyJn'
    "aGNyLmlvIjp7InVzZXJuYW1lIjoib2N0by1ib3QiLCJwYXNzd29yZCI6Im5vdC1hLXJlYWwtZ2hjci10b2tlbiIsIm"
    'F1dGgiOiJiMk4wYnkxaWIzUTZibTkwTFdFdGNtVmhiQzFuYUdOeUxYUnZhMlZ1In19fQ=="},"type":"kubernete'
    's.io/dockerconfigjson"}'
)
# … --docker-server=registry.local:5000 --docker-username=admin --docker-password=local-test-pw
KUBECTL_LOCAL_PORT = (
    '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"registry-secret-33333333-3333-4333-'
    '8333-333333333333","creationTimestamp":null},"data":{".dockerconfigjson":"eyJhdXRocyI6eyJy'
    "ZWdpc3RyeS5sb2NhbDo1MDAwIjp7InVzZXJuYW1lIjoiYWRtaW4iLCJwYXNzd29yZCI6ImxvY2FsLXRlc3QtcHciLC"
    'JhdXRoIjoiWVdSdGFXNDZiRzlqWVd3dGRHVnpkQzF3ZHc9PSJ9fX0="},"type":"kubernetes.io/dockerconfi'
    'gjson"}'
)
# … --docker-server=123456789012.dkr.ecr.eu-west-1.amazonaws.com --docker-username=AWS
#   --docker-password=fake-ecr-token-eyJwYXlsb2FkIjoiZmFrZSJ9
KUBECTL_ECR = (
    '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"registry-secret-44444444-4444-4444-'
    '8444-444444444444","creationTimestamp":null},"data":{".dockerconfigjson":"eyJhdXRocyI6eyIx'
    "MjM0NTY3ODkwMTIuZGtyLmVjci5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbSI6eyJ1c2VybmFtZSI6IkFXUyIsInBhc3"
    "N3b3JkIjoiZmFrZS1lY3ItdG9rZW4tZXlKd1lYbHNiMkZrSWpvaVptRnJaU0o5IiwiYXV0aCI6IlFWZFRPbVpoYTJV"
    'dFpXTnlMWFJ2YTJWdUxXVjVTbmRaV0d4ellqSkdhMGxxYjJsYWJVWnlXbE5LT1E9PSJ9fX0="},"type":"kub'
    'ernetes.io/dockerconfigjson"}'
)
# … --docker-server=harbor.example.com --docker-username='robot$ci' \
#   --docker-password=$'<tag>&"quoted"\\back\\slash é\u2028end'
KUBECTL_ESCAPES = (
    '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"registry-secret-55555555-5555-4555-'
    '8555-555555555555","creationTimestamp":null},"data":{".dockerconfigjson":"eyJhdXRocyI6eyJo'
    "YXJib3IuZXhhbXBsZS5jb20iOnsidXNlcm5hbWUiOiJyb2JvdCRjaSIsInBhc3N3b3JkIjoiXHUwMDNjdGFnXHUwMD"
    "NlXHUwMDI2XCJxdW90ZWRcIlxcYmFja1xcc2xhc2ggw6lcdTIwMjhlbmQiLCJhdXRoIjoiY205aWIzUWtZMms2UEhS"
    'aFp6NG1JbkYxYjNSbFpDSmNZbUZqYTF4emJHRnphQ0REcWVLQXFHVnVaQT09In19fQ=="},"type":"kubernetes'
    '.io/dockerconfigjson"}'
)

CASES = [
    pytest.param(
        HUB_ID, "docker.io", "vectis-bot", "fake-hub-password-1", KUBECTL_DOCKER_HUB, id="hub"
    ),
    pytest.param(
        HUB_ID, "https://registry-1.docker.io", "vectis-bot", "fake-hub-password-1",
        KUBECTL_DOCKER_HUB, id="hub-registry-1-url",
    ),
    pytest.param(
        HUB_ID, "index.docker.io", "vectis-bot", "fake-hub-password-1", KUBECTL_DOCKER_HUB,
        id="hub-index-url",
    ),
    pytest.param(GHCR_ID, "ghcr.io", "octo-bot", "not-a-real-ghcr-token", KUBECTL_GHCR, id="ghcr"),
    pytest.param(
        LOCAL_ID, "registry.local:5000", "admin", "local-test-pw", KUBECTL_LOCAL_PORT, id="port"
    ),
    pytest.param(
        ECR_ID, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "AWS",
        "fake-ecr-token-eyJwYXlsb2FkIjoiZmFrZSJ9", KUBECTL_ECR, id="ecr",
    ),
    pytest.param(
        HARBOR_ID, "harbor.example.com", "robot$ci",
        '<tag>&"quoted"\\back\\slash \u00e9\u2028end', KUBECTL_ESCAPES, id="escapes",
    ),
]  # fmt: skip


def ours(registry_id: str, server: str, username: str, password: str) -> dict[str, Any]:
    return pull_secret(
        registry_id=registry_id,
        registry_name="Golden",
        server_host=server,
        username=username,
        password=password,
        namespace="vectis-golden",
    )


@pytest.mark.parametrize(("registry_id", "server", "username", "password", "kubectl"), CASES)
def test_secret_equals_kubectl_output(
    registry_id: str, server: str, username: str, password: str, kubectl: str
) -> None:
    expected = json.loads(kubectl)
    secret = ours(registry_id, server, username, password)

    assert secret["data"] == expected["data"]
    assert secret["type"] == expected["type"]
    assert secret["kind"] == expected["kind"]
    assert secret["apiVersion"] == expected["apiVersion"]
    assert secret["metadata"]["name"] == expected["metadata"]["name"]
    # Nothing beyond kubectl's top-level fields (no stringData, no immutable flag).
    assert set(secret) == set(expected)
    # What we add to metadata is ours only; kubectl's creationTimestamp is server-owned.
    extra = set(secret["metadata"]) - set(expected["metadata"])
    assert extra == {"namespace", "labels", "annotations"}


@pytest.mark.parametrize(("registry_id", "server", "username", "password", "kubectl"), CASES)
def test_fixture_decodes_to_the_expected_credentials(
    registry_id: str, server: str, username: str, password: str, kubectl: str
) -> None:
    # A check of the fixtures themselves: they hold what their command line says.
    payload = base64.b64decode(json.loads(kubectl)["data"][".dockerconfigjson"]).decode()
    ((_, entry),) = json.loads(payload)["auths"].items()
    assert entry == {
        "username": username,
        "password": password,
        "auth": base64.b64encode(f"{username}:{password}".encode()).decode(),
    }


def test_escapes_are_go_style_in_the_payload() -> None:
    payload = base64.b64decode(json.loads(KUBECTL_ESCAPES)["data"][".dockerconfigjson"]).decode()
    assert "\\u003ctag\\u003e\\u0026" in payload
    assert "\\u2028" in payload
    assert "\u00e9" in payload  # other non-ASCII characters stay raw UTF-8
