"""ECR tokens from moto's AWS emulation: minted, cached until 2/3 of their life, never stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.aws import MotoServer
from tests.support.clock import FakeClock
from vectis_admin.adapters.registry.ecr import EcrTokenProvider
from vectis_admin.errors import UpstreamError

# moto's ECR tokens always expire on 2015-01-01: the test clock lives before that.
MOTO_EXPIRY = datetime(2015, 1, 1, tzinfo=UTC)
KEYS = {"access_key_id": "AKIA" + "T" * 16, "secret_access_key": "moto-accepts-anything"}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


def provider(moto: MotoServer, clock: FakeClock) -> EcrTokenProvider:
    return EcrTokenProvider(clock=clock.now, endpoint_url=moto.endpoint_url)


def test_token_is_minted_and_cached_until_two_thirds_of_its_life(moto: MotoServer) -> None:
    clock = FakeClock(MOTO_EXPIRY - timedelta(hours=12))
    tokens = provider(moto, clock)
    first = tokens.token(region="us-east-1", **KEYS)
    assert first.username == "AWS"
    assert first.password.endswith("-auth-token")
    assert first.proxy_endpoint.endswith(".dkr.ecr.us-east-1.amazonaws.com")
    assert first.expires_at == MOTO_EXPIRY
    assert "auth-token" not in repr(first)
    clock.advance(hours=7, minutes=59)
    assert tokens.token(region="us-east-1", **KEYS) is first
    clock.advance(minutes=2)  # past 8 h of a 12 h token: re-minted
    assert tokens.token(region="us-east-1", **KEYS) is not first


def test_other_credentials_are_cached_apart(moto: MotoServer) -> None:
    clock = FakeClock(MOTO_EXPIRY - timedelta(hours=12))
    tokens = provider(moto, clock)
    one = tokens.token(region="us-east-1", **KEYS)
    other = tokens.token(
        region="us-east-1", access_key_id=KEYS["access_key_id"], secret_access_key="another-secret"
    )
    assert one is not other


def test_an_expired_token_is_refused_not_used(moto: MotoServer) -> None:
    clock = FakeClock(MOTO_EXPIRY + timedelta(seconds=1))
    with pytest.raises(UpstreamError, match="expired"):
        provider(moto, clock).token(region="us-east-1", **KEYS)


def test_role_is_assumed_first(moto: MotoServer) -> None:
    clock = FakeClock(MOTO_EXPIRY - timedelta(hours=1))
    token = provider(moto, clock).token(
        region="us-east-1", role_arn="arn:aws:iam::123456789012:role/puller", **KEYS
    )
    assert token.password


def test_unreachable_aws_is_an_upstream_error() -> None:
    clock = FakeClock(MOTO_EXPIRY - timedelta(hours=1))
    from tests.support.net import free_port

    tokens = EcrTokenProvider(
        clock=clock.now, endpoint_url=f"http://127.0.0.1:{free_port()}", timeout=1
    )
    with pytest.raises(UpstreamError, match="cannot reach AWS"):
        tokens.token(region="us-east-1", **KEYS)
