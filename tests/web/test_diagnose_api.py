"""`POST /api/v1/diagnose/explain` and `vectis-admin diagnose explain`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Run

DESCRIBE = """Events:
  Normal   Pulling    12s   kubelet  Pulling image "ghcr.io/cpoder/vectis-server:9.9"
  Warning  Failed     11s   kubelet  Failed to pull image "ghcr.io/cpoder/vectis-server:9.9": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/cpoder/vectis-server:9.9": failed to resolve reference "ghcr.io/cpoder/vectis-server:9.9": ghcr.io/cpoder/vectis-server:9.9: not found
  Warning  Failed     11s   kubelet  Error: ErrImagePull
  Normal   BackOff    10s   kubelet  Back-off pulling image "ghcr.io/cpoder/vectis-server:9.9"
"""  # noqa: E501


def test_explain_api(api: TestClient) -> None:
    body = api.post(
        "/api/v1/diagnose/explain", json={"message": DESCRIBE, "reason": "ImagePullBackOff"}
    ).json()
    assert body["cause"] == "tag_missing" and body["known"] is True and body["fix"]
    unknown = api.post("/api/v1/diagnose/explain", json={"message": "weird"}).json()
    assert unknown["cause"] == "unknown" and unknown["evidence"] == "weird"
    assert api.post("/api/v1/diagnose/explain", json={"message": ""}).status_code == 422


def test_explain_cli(run: Run) -> None:
    result = run(
        "diagnose", "explain", "--message", "toomanyrequests: You have reached your pull rate limit"
    )
    assert result.exit_code == 0 and "cause:    rate_limited" in result.output
    piped = run("diagnose", "explain", input=DESCRIBE)
    assert "cause:    tag_missing" in piped.output
