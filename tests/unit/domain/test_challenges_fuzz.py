"""The protocol parsers, fuzzed: whatever a registry sends, only our own parse errors come out."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vectis_admin.domain.challenges import (
    MalformedResponse,
    next_link,
    parse_error_body,
    parse_token_response,
    parse_www_authenticate,
    platforms_of,
    rate_limit_of,
)

# Text biased towards the grammar's own characters, so the fuzzer reaches the parser's corners.
header_text = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from(
            [
                "Bearer",
                "Basic",
                " ",
                ",",
                "=",
                '"',
                "\\",
                "realm",
                "scope",
                "a:b:pull",
                "x=",
                '"q,"',
                "==",
                "token68/+=",
                "\t",
                "é",
                "\x00",
            ]
        ),
        max_size=30,
    ).map("".join),
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(header_text)
def test_www_authenticate_never_raises_foreign_errors(header: str) -> None:
    try:
        challenges = parse_www_authenticate(header)
    except MalformedResponse:
        return
    for challenge in challenges:
        assert challenge.scheme == challenge.scheme.lower()


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_token_response_never_raises_foreign_errors(body: bytes) -> None:
    try:
        parse_token_response(body, received_at=datetime(2026, 1, 1, tzinfo=UTC))
    except MalformedResponse:
        pass


@FUZZ
@given(st.binary(max_size=300))
def test_bodies_never_raise_foreign_errors(body: bytes) -> None:
    for parse in (platforms_of, parse_error_body):
        try:
            parse(body)
        except MalformedResponse:
            pass


@FUZZ
@given(st.text(max_size=200), st.text(max_size=50))
def test_link_and_rate_limit_headers(link: str, quota: str) -> None:
    try:
        next_link(link, "https://r.example.com/v2/app/tags/list?n=2")
    except MalformedResponse:
        pass
    rate_limit_of({"ratelimit-limit": quota, "ratelimit-remaining": quota})
