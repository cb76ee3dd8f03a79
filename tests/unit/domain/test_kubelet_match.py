"""kubelet's choice of pull-secret key, case by case (kubernetes pkg/credentialprovider)."""

from __future__ import annotations

import base64
import json

import pytest

from vectis_admin.domain.dockerconfig import DOCKER_HUB_KEY, build_dockerconfigjson
from vectis_admin.domain.kubelet_match import (
    DEFAULT_REGISTRY_KEY,
    MatchKey,
    image_repository,
    key_matches_image,
    matching_key,
    matching_keys,
    normalize_auths_key,
    pull_secret_matches,
)
from vectis_admin.errors import InvalidInput

FAKE_PASSWORD = "fake-" + "password-" + "for-tests"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(*keys: str, entry: object = None) -> str:
    value = {"auth": b64(f"user:{FAKE_PASSWORD}")} if entry is None else entry
    return json.dumps({"auths": dict.fromkeys(keys, value)})


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("https://index.docker.io/v1/", ("index.docker.io", "index.docker.io", None, "")),
        ("index.docker.io/v1/", ("index.docker.io", "index.docker.io", None, "")),
        ("http://index.docker.io/v2/", ("index.docker.io", "index.docker.io", None, "")),
        ("index.docker.io", ("index.docker.io", "index.docker.io", None, "")),
        ("docker.io", ("docker.io", "docker.io", None, "")),
        (
            "https://index.docker.io/v2/org",
            ("index.docker.io/org", "index.docker.io", None, "/org"),
        ),
        ("https://index.docker.io/v1", ("index.docker.io/v1", "index.docker.io", None, "/v1")),
        ("https://ghcr.io/v3/", ("ghcr.io/v3/", "ghcr.io", None, "/v3/")),
        ("http://registry.local:5000/v2/", ("registry.local:5000", "registry.local", "5000", "")),
        ("ghcr.io/org/", ("ghcr.io/org/", "ghcr.io", None, "/org/")),
        ("https://user:pw@ghcr.io/", ("ghcr.io", "ghcr.io", None, "")),
        ("ghcr.io?x=1#top", ("ghcr.io", "ghcr.io", None, "")),
        ("ghcr.io/a%2Fb", ("ghcr.io/a/b", "ghcr.io", None, "/a/b")),
        ("[::1]:5000", ("[::1]:5000", "::1", "5000", "")),
        ("[::1]", ("[::1]", "[::1]", None, "")),
        ("*.azurecr.io", ("*.azurecr.io", "*.azurecr.io", None, "")),
        ("registry.local:", ("registry.local:", "registry.local", None, "")),
        # Only http(s):// is recognised: anything else gets https:// in front of it.
        ("ftp://host", ("ftp://host", "ftp", None, "//host")),
        ("HTTPS://ghcr.io", ("HTTPS://ghcr.io", "HTTPS", None, "//ghcr.io")),
    ],
)
def test_normalize_auths_key(key: str, expected: tuple[str, str, str | None, str]) -> None:
    index_key, host, port, path = expected
    assert normalize_auths_key(key) == MatchKey(key=index_key, host=host, port=port, path=path)


@pytest.mark.parametrize(
    "key",
    [
        "ghcr.io:abc",  # non-numeric port
        "ghcr io",  # space in the host
        "[::1",  # unclosed bracket
        "ghcr.io/%zz",  # bad escape in the path
        "gh%41cr.io",  # host escapes are for non-ASCII bytes only
        "https://us er@ghcr.io",  # space in userinfo
        "ghcr.io\x00",  # control character
        "a^b.io",  # '^' is refused in a host: negated globs cannot be written at all
        "[a-c]cr.io",  # a leading '[' is read as an IPv6 literal
    ],
)
def test_keys_go_refuses_are_ignored(key: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_auths_key(key)
    assert not key_matches_image(key, "ghcr.io/org/app")
    assert matching_keys([key, "ghcr.io"], "ghcr.io/org/app") == ["ghcr.io"]


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.25", "docker.io/library/nginx"),
        ("library/nginx", "docker.io/library/nginx"),
        ("index.docker.io/org/app:1", "docker.io/org/app"),
        ("docker.io/org/app", "docker.io/org/app"),
        ("localhost:5000/a@sha256:" + "a" * 64, "localhost:5000/a"),
        (f"{ECR}/team/app:v1", f"{ECR}/team/app"),
        ("MyHost/app", "MyHost/app"),
    ],
)
def test_image_repository(image: str, repository: str) -> None:
    assert image_repository(image) == repository


# --- one key against one image ---------------------------------------------------------------

MATCHES = [
    # Docker Hub: images are docker.io/..., so `docker.io` matches directly; the index.docker.io
    # spellings match only through kubelet's fallback to its exact `index.docker.io` entry.
    pytest.param("https://index.docker.io/v1/", "nginx", True, id="hub-kubectl-default"),
    pytest.param("index.docker.io/v1/", "library/nginx:1.25", True, id="hub-no-scheme"),
    pytest.param("http://index.docker.io/v2/", "docker.io/org/app", True, id="hub-v2"),
    pytest.param("index.docker.io", "nginx", True, id="hub-bare-index"),
    pytest.param("https://index.docker.io/v1/", "index.docker.io/org/app", True, id="hub-legacy"),
    pytest.param("docker.io", "nginx", True, id="hub-docker.io-direct"),
    pytest.param("https://docker.io", "org/app", True, id="hub-docker.io-scheme"),
    pytest.param("registry-1.docker.io", "nginx", False, id="hub-registry-1-never"),
    pytest.param("https://registry-1.docker.io/v2/", "org/app", False, id="hub-registry-1-v2"),
    pytest.param("index.docker.io:443", "nginx", False, id="hub-port-breaks-fallback"),
    pytest.param("index.docker.io/org", "org/app", False, id="hub-index-path-no-fallback"),
    pytest.param("docker.io/library", "nginx", True, id="hub-path"),
    pytest.param("docker.io/library", "org/app", False, id="hub-other-path"),
    pytest.param("docker.io/lib", "nginx", True, id="hub-path-string-prefix"),
    pytest.param("https://index.docker.io/v1/", "ghcr.io/org/app", False, id="hub-key-other"),
    # kubelet's isDefaultRegistryMatch looks only for '.' or ':' in the first component.
    pytest.param("https://index.docker.io/v1/", "localhost/app", True, id="hub-quirk-localhost"),
    pytest.param("https://index.docker.io/v1/", "MyHost/app", True, id="hub-quirk-uppercase"),
    pytest.param("https://index.docker.io/v1/", "localhost:5000/app", False, id="hub-port"),
    # Ports: equal, or both absent.
    pytest.param("localhost:5000", "localhost:5000/app", True, id="port-equal"),
    pytest.param("http://localhost:5000/v2/", "localhost:5000/app:1", True, id="port-v2"),
    pytest.param("localhost", "localhost:5000/app", False, id="port-key-missing"),
    pytest.param("localhost:5000", "localhost/app", False, id="port-image-missing"),
    pytest.param("registry.local:5000", "registry.local:5001/app", False, id="port-differs"),
    pytest.param("ghcr.io:443", "ghcr.io/org/app", False, id="port-443-is-not-none"),
    pytest.param("[::1]:5000", "[::1]:5000/app", True, id="port-ipv6"),
    # Globs: one label per '*', case-sensitive, Go filepath.Match syntax.
    pytest.param("*.azurecr.io", "myreg.azurecr.io/app", True, id="glob-one-label"),
    pytest.param("*.azurecr.io", "a.b.azurecr.io/app", False, id="glob-not-two-labels"),
    pytest.param("*.*.azurecr.io", "a.b.azurecr.io/app", True, id="glob-two-stars"),
    pytest.param("*.azurecr.io", "azurecr.io/app", False, id="glob-not-zero-labels"),
    pytest.param("my*.azurecr.io", "myreg.azurecr.io/app", True, id="glob-partial-label"),
    pytest.param("*", "localhost/app", True, id="glob-single-label"),
    pytest.param("a[b-c]r.io", "abr.io/x", True, id="glob-class"),
    pytest.param("a[b-c]r.io", "adr.io/x", False, id="glob-class-miss"),
    pytest.param("a[c-b]r.io", "abr.io/x", False, id="glob-inverted-range"),
    pytest.param("a[]r.io", "abr.io/x", False, id="glob-bad-pattern"),
    pytest.param("a?r.io", "abr.io/x", False, id="glob-question-mark-is-a-query"),
    pytest.param("*.azurecr.io/team", "x.azurecr.io/team/app", True, id="glob-with-path"),
    pytest.param("*.azurecr.io/team", "x.azurecr.io/other/app", False, id="glob-path-miss"),
    pytest.param("GHCR.io", "ghcr.io/org/app", False, id="host-case-sensitive"),
    # Paths: a plain string prefix of the image path.
    pytest.param("ghcr.io/org", "ghcr.io/org/app", True, id="path-prefix"),
    pytest.param("ghcr.io/org", "ghcr.io/organisation/app", True, id="path-string-not-segment"),
    pytest.param("ghcr.io/org/", "ghcr.io/organisation/app", False, id="path-trailing-slash"),
    pytest.param("ghcr.io/other", "ghcr.io/org/app", False, id="path-other"),
    pytest.param("https://ghcr.io/v2/org", "ghcr.io/org/app", True, id="path-after-v2"),
    pytest.param("https://ghcr.io/v1/", "ghcr.io/org/app", True, id="path-v1-root"),
    pytest.param("https://ghcr.io/v3/", "ghcr.io/org/app", False, id="path-v3-kept"),
    pytest.param("https://user:pw@ghcr.io/", "ghcr.io/a", True, id="userinfo-dropped"),
    pytest.param("ghcr.io?x=1#top", "ghcr.io/a", True, id="query-dropped"),
    # ECR.
    pytest.param(ECR, f"{ECR}/app:1", True, id="ecr"),
    pytest.param(f"https://{ECR}", f"{ECR}/team/app", True, id="ecr-scheme"),
    pytest.param("*.dkr.ecr.*.amazonaws.com", f"{ECR}/app", True, id="ecr-glob"),
    pytest.param(ECR, "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", False, id="ecr-region"),
    pytest.param(
        "*.dkr.ecr.eu-west-1.amazonaws.com",
        "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com/app",
        False,
        id="ecr-fips-label",
    ),
]


@pytest.mark.parametrize(("key", "image", "expected"), MATCHES)
def test_key_matches_image(key: str, image: str, expected: bool) -> None:
    assert key_matches_image(key, image) is expected
    assert (matching_key([key], image) == key) is expected


def test_default_registry_key_is_what_the_docker_hub_key_becomes() -> None:
    assert normalize_auths_key(DOCKER_HUB_KEY).key == DEFAULT_REGISTRY_KEY


# --- several keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "image", "expected"),
    [
        (["ghcr.io", "ghcr.io/org"], "ghcr.io/org/app", ["ghcr.io/org", "ghcr.io"]),
        (["ghcr.io/org", "ghcr.io"], "ghcr.io/other/app", ["ghcr.io"]),
        # A direct match wins; the index.docker.io fallback is then not consulted at all.
        ([DOCKER_HUB_KEY, "docker.io"], "nginx", ["docker.io"]),
        ([DOCKER_HUB_KEY, "docker.io/org"], "nginx", [DOCKER_HUB_KEY]),
        ([DOCKER_HUB_KEY, "docker.io/org"], "org/app", ["docker.io/org"]),
        # Same index entry: every spelling is tried, in the given order.
        ([DOCKER_HUB_KEY, "index.docker.io"], "nginx", [DOCKER_HUB_KEY, "index.docker.io"]),
        # Reverse lexical order is kubelet's "most specific first".
        (
            ["*.azurecr.io", "reg.azurecr.io"],
            "reg.azurecr.io/a",
            ["reg.azurecr.io", "*.azurecr.io"],
        ),
        (["registry-1.docker.io", "ghcr.io"], "nginx", []),
        ([], "nginx", []),
    ],
)
def test_matching_keys_in_kubelet_order(keys: list[str], image: str, expected: list[str]) -> None:
    assert matching_keys(keys, image) == expected
    assert matching_key(keys, image) == (expected[0] if expected else None)


def test_invalid_image_is_refused() -> None:
    with pytest.raises(InvalidInput):
        matching_key(["ghcr.io"], "Not An Image")


# --- whole secrets ---------------------------------------------------------------------------


def test_kubectl_docker_hub_secret_matches_through_the_fallback() -> None:
    text = build_dockerconfigjson(DOCKER_HUB_KEY, "user", FAKE_PASSWORD)
    result = pull_secret_matches(text, "nginx:1.25")
    assert result.matched
    assert result.matched_key == DOCKER_HUB_KEY
    assert result.candidates == (DOCKER_HUB_KEY,)
    assert not result.keyring_failed
    assert "fallback" in result.reason
    assert "docker.io/library/nginx" in result.reason


def test_direct_match_reports_the_most_specific_key_first() -> None:
    result = pull_secret_matches(secret("ghcr.io", "ghcr.io/org"), "ghcr.io/org/app:1")
    assert result.matched_key == "ghcr.io/org"
    assert result.candidates == ("ghcr.io/org", "ghcr.io")
    assert "fallback" not in result.reason


@pytest.mark.parametrize(
    ("keys", "image", "hint"),
    [
        (["registry-1.docker.io"], "nginx", "never matches Docker Hub images"),
        (["registry.local:5000"], "registry.local/app", "has port 5000, the image has none"),
        (["*.azurecr.io"], "a.b.azurecr.io/app", "has 3 host labels"),
        (["ghcr.io/other"], "ghcr.io/org/app", "does not start the image path /org/app"),
        (["quay.io"], "ghcr.io/org/app", "host that does not match ghcr.io"),
        (["ghcr io"], "ghcr.io/org/app", "not a URL kubelet can parse"),
        ([], "ghcr.io/org/app", "no auths entries"),
    ],
)
def test_no_match_says_why(keys: list[str], image: str, hint: str) -> None:
    result = pull_secret_matches(secret(*keys), image)
    assert result.matched_key is None
    assert not result.keyring_failed
    assert "without credentials" in result.reason
    assert hint in result.reason


def test_userinfo_of_a_key_never_reaches_the_reason() -> None:
    result = pull_secret_matches(secret(f"https://user:{FAKE_PASSWORD}@quay.io"), "ghcr.io/a")
    assert FAKE_PASSWORD not in result.reason
    assert "***@quay.io" in result.reason


@pytest.mark.parametrize(
    "auth",
    [
        b64("user:pw"),
        b64("user:pw").rstrip("="),  # kubelet also decodes unpadded base64
        b64(":"),  # empty user and password still decode
        b64("user:pw:with:colons"),
        b64("ab:c")[:4] + "\n" + b64("ab:c")[4:],  # Go skips line breaks
    ],
)
def test_well_formed_auth_fields(auth: str) -> None:
    result = pull_secret_matches(secret("ghcr.io", entry={"auth": auth}), "ghcr.io/a")
    assert result.matched_key == "ghcr.io"


@pytest.mark.parametrize(
    "auth",
    [
        "not base64!",
        b64("no-colon-here"),
        b64("user:pw") + "=",  # too much padding
        b64("ab:c")[:-1],  # padded but cut short
        "A",  # a lone sextet is never valid
        b64("user:pw") + " ",  # trailing space is not skipped
    ],
)
def test_malformed_auth_fails_the_whole_secret(auth: str) -> None:
    text = json.dumps(
        {"auths": {"ghcr.io": {"auth": auth}, "quay.io": {"auth": b64("u:" + FAKE_PASSWORD)}}}
    )
    result = pull_secret_matches(text, "quay.io/org/app")  # even for the other, valid entry
    assert result.keyring_failed
    assert result.matched_key is None
    assert '"ghcr.io"' in result.reason
    assert auth.strip() not in result.reason
    assert FAKE_PASSWORD not in result.reason


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"auths": NaN}', "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"auths": []}', '"auths" is not a JSON object'),
        ('{"auths": {"ghcr.io": "u:p"}}', "is not a JSON object"),
        ('{"auths": {"ghcr.io": {"username": 1}}}', '"username" that is not a string'),
        ('{"auths": {"ghcr.io": {"Auth": "%%%"}}}', '"auth" that is not base64'),
        ('{"HttpHeaders": {"X-A": 1}, "auths": {}}', "HttpHeaders"),
        # Go stops at the first entry it cannot decode, even if a duplicate would replace it.
        ('{"auths": {"ghcr.io": {"auth": "%%%"}, "ghcr.io": {}}}', '"auth" that is not base64'),
        ('{"auths": {"ghcr.io": {"username": 1, "username": "u"}}}', '"username" that is not'),
    ],
)
def test_secrets_go_cannot_decode(text: str, problem: str) -> None:
    result = pull_secret_matches(text, "ghcr.io/a")
    assert result.keyring_failed
    assert result.matched_key is None
    assert problem in result.reason
    assert "pull of a pod that lists it fails" in result.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("null", None),
        ("{}", None),
        ('{"auths": null}', None),
        ('{"auths": {"ghcr.io": null}}', "ghcr.io"),  # an empty entry is still indexed
        ('{"Auths": {"ghcr.io": {}}}', "ghcr.io"),  # Go matches field names case-insensitively
        ('{"auths": {"ghcr.io": {"username": "u", "password": "p", "auth": ""}}}', "ghcr.io"),
        ('{"auths": {"quay.io": {}}, "auths": {"ghcr.io": {}}}', "ghcr.io"),  # merged
        ('{"auths": {"ghcr.io": {}}, "auths": null}', None),  # null empties the map
        ('{"auths": {"ghcr.io": {"auth": "%%%", "auth": ""}}}', "ghcr.io"),  # last field wins
    ],
)
def test_secrets_go_decodes(text: str, expected: str | None) -> None:
    result = pull_secret_matches(text, "ghcr.io/a")
    assert not result.keyring_failed
    assert result.matched_key == expected
