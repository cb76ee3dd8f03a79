from __future__ import annotations

import pytest

from vectis_admin.domain.network_policy import NetworkPolicy, parse_networks
from vectis_admin.errors import InvalidInput


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.0.1",
        "fd00:ec2::254",
        "[fd00:ec2::254]",
        "fe80::1%eth0",
        "::ffff:169.254.169.254",
    ],
)
def test_metadata_and_link_local_are_refused_by_default(address: str) -> None:
    reason = NetworkPolicy().refusal(address)
    assert reason is not None and "blocked network" in reason


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "8.8.8.8", "::1", "2001:db8::1"])
def test_ordinary_addresses_pass(address: str) -> None:
    assert NetworkPolicy().refusal(address) is None


def test_operator_blocks_and_allows() -> None:
    policy = NetworkPolicy(
        blocked=parse_networks("10.0.0.0/8, 169.254.0.0/16", field="b"),
        allowed=parse_networks("10.20.0.0/16,169.254.10.10", field="a"),
    )
    assert policy.refusal("10.1.1.1") is not None
    assert policy.refusal("10.20.3.4") is None
    assert policy.refusal("169.254.10.10") is None
    assert policy.refusal("169.254.169.254") is not None


def test_bad_network_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_networks("10.0.0.0/8,not-a-net", field="VECTIS_BLOCKED_NETWORKS")
    assert caught.value.issues[0].field == "VECTIS_BLOCKED_NETWORKS"
    assert "not-a-net" in caught.value.issues[0].rule
