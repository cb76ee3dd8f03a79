"""The pull-failure classifier on real kubelet, containerd, CRI-O and Docker messages."""

from __future__ import annotations

import pytest

from vectis_admin.domain.pull_failures import PullCause, explain_pull_failure

IMG = "ghcr.io/cpoder/vectis-server:1.4.2"
FAILED = f'Failed to pull image "{IMG}": '

TABLE: list[tuple[str, PullCause]] = [
    # bad credentials
    (
        FAILED + 'rpc error: code = Unknown desc = failed to pull and unpack image "' + IMG + '": '
        'failed to resolve reference "'
        + IMG
        + '": failed to authorize: failed to fetch oauth token: '
        "unexpected status from GET request to https://ghcr.io/token?scope=repository%3Acpoder%2F"
        "vectis-server%3Apull&service=ghcr.io: 401 Unauthorized",
        PullCause.BAD_CREDENTIALS,
    ),
    (
        FAILED + 'failed to resolve reference "' + IMG + '": failed to authorize: failed to fetch '
        "anonymous token: unexpected status: 401 Unauthorized",
        PullCause.BAD_CREDENTIALS,
    ),
    (
        'Failed to pull image "registry.local/app:1": Error response from daemon: Get '
        '"https://registry.local/v2/app/manifests/1": unauthorized: authentication required',
        PullCause.BAD_CREDENTIALS,
    ),
    (
        'Failed to pull image "myuser/private:1": rpc error: code = Unknown desc = Error response '
        'from daemon: Head "https://registry-1.docker.io/v2/myuser/private/manifests/1": '
        "unauthorized: incorrect username or password",
        PullCause.BAD_CREDENTIALS,
    ),
    (
        'Failed to pull image "123456789012.dkr.ecr.eu-west-3.amazonaws.com/app:1": rpc error: '
        'code = Unknown desc = Error response from daemon: Get "https://123456789012.dkr.ecr.'
        'eu-west-3.amazonaws.com/v2/app/manifests/1": no basic auth credentials',
        PullCause.BAD_CREDENTIALS,
    ),
    (
        'Failed to pull image "quay.io/org/app:1": rpc error: code = Unknown desc = reading '
        "manifest 1 in quay.io/org/app: unauthorized: access to the requested resource is not "
        "authorized",
        PullCause.BAD_CREDENTIALS,
    ),
    # expired ECR token (before the generic 401 rule)
    (
        'Failed to pull image "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1": rpc error: '
        "code = Unknown desc = failed to pull and unpack image: failed to resolve reference: "
        "pulling from host 123456789012.dkr.ecr.us-east-1.amazonaws.com failed with status code "
        "[manifests 1]: 403 Forbidden: Your authorization token has expired. Reauthenticate and "
        "try again.",
        PullCause.EXPIRED_TOKEN,
    ),
    # denied
    (
        FAILED + 'failed to resolve reference "' + IMG + '": pulling from host ghcr.io failed with '
        "status code [manifests 1.4.2]: 403 Forbidden",
        PullCause.DENIED,
    ),
    (
        'Failed to pull image "harbor.corp/team/app:1": Error response from daemon: denied: '
        "requested access to the resource is denied",
        PullCause.DENIED,
    ),
    (
        'Failed to pull image "harbor.corp/team/app:1": rpc error: code = Unknown desc = reading '
        "manifest 1 in harbor.corp/team/app: denied: requested access to the resource is denied",
        PullCause.DENIED,
    ),
    # repository missing
    (
        'Failed to pull image "registry.local/nope:1": rpc error: code = Unknown desc = reading '
        "manifest 1 in registry.local/nope: name unknown: repository name not known to registry",
        PullCause.REPOSITORY_MISSING,
    ),
    (
        'Failed to pull image "123456789012.dkr.ecr.us-east-1.amazonaws.com/nope:1": rpc error: '
        "code = Unknown desc = Error response from daemon: repository 123456789012.dkr.ecr.us-east"
        "-1.amazonaws.com/nope not found: name unknown: The repository with name 'nope' does not "
        "exist in the registry with id '123456789012'",
        PullCause.REPOSITORY_MISSING,
    ),
    # tag missing
    (
        FAILED + 'rpc error: code = NotFound desc = failed to pull and unpack image "' + IMG + '": '
        'failed to resolve reference "' + IMG + '": ' + IMG + ": not found",
        PullCause.TAG_MISSING,
    ),
    (
        'Failed to pull image "registry.local/app:9": rpc error: code = Unknown desc = Error '
        "response from daemon: manifest for registry.local/app:9 not found: manifest unknown: "
        "manifest unknown",
        PullCause.TAG_MISSING,
    ),
    (
        'Failed to pull image "quay.io/org/app:9": rpc error: code = Unknown desc = reading '
        "manifest 9 in quay.io/org/app: manifest unknown",
        PullCause.TAG_MISSING,
    ),
    # Docker Hub's ambiguity
    (
        'Failed to pull image "cpoder/vectis-private:1": rpc error: code = Unknown desc = failed to '
        'pull and unpack image "docker.io/cpoder/vectis-private:1": failed to resolve reference '
        '"docker.io/cpoder/vectis-private:1": pull access denied, repository does not exist or may '
        "require authorization: server message: insufficient_scope: authorization failed",
        PullCause.MISSING_OR_NO_ACCESS,
    ),
    (
        'Failed to pull image "nope/nope:1": Error response from daemon: pull access denied for '
        "nope/nope, repository does not exist or may require 'docker login': denied: requested "
        "access to the resource is denied",
        PullCause.MISSING_OR_NO_ACCESS,
    ),
    # platform
    (
        FAILED + 'rpc error: code = NotFound desc = failed to pull and unpack image "' + IMG + '": '
        "no match for platform in manifest: not found",
        PullCause.NO_PLATFORM,
    ),
    (
        'Failed to pull image "app:arm": Error response from daemon: no matching manifest for '
        "linux/amd64 in the manifest list entries",
        PullCause.NO_PLATFORM,
    ),
    (
        'Failed to pull image "quay.io/org/app:1": rpc error: code = Unknown desc = choosing an '
        "image from manifest list docker://quay.io/org/app:1: no image found in manifest list for "
        'architecture amd64, variant "", OS linux',
        PullCause.NO_PLATFORM,
    ),
    # network
    (
        FAILED + 'failed to do request: Head "https://ghcr.io/v2/cpoder/vectis-server/manifests/'
        '1.4.2": dial tcp: lookup ghcr.io on 10.96.0.10:53: no such host',
        PullCause.DNS,
    ),
    (
        'Failed to pull image "registry.corp:5000/app:1": rpc error: code = Unknown desc = pinging '
        'container registry registry.corp:5000: Get "https://registry.corp:5000/v2/": dial tcp: '
        "lookup registry.corp: Temporary failure in name resolution",
        PullCause.DNS,
    ),
    (
        'Failed to pull image "10.0.0.5:5000/app:1": rpc error: code = Unknown desc = failed to do '
        'request: Head "https://10.0.0.5:5000/v2/app/manifests/1": dial tcp 10.0.0.5:5000: '
        "connect: connection refused",
        PullCause.REFUSED,
    ),
    (
        'Failed to pull image "10.0.0.5:5000/app:1": rpc error: code = Unknown desc = failed to do '
        'request: Head "https://10.0.0.5:5000/v2/app/manifests/1": dial tcp 10.0.0.5:5000: '
        "i/o timeout",
        PullCause.TIMEOUT,
    ),
    (
        'Failed to pull image "registry.corp/app:1": rpc error: code = Unknown desc = Error '
        'response from daemon: Get "https://registry.corp/v2/": net/http: TLS handshake timeout',
        PullCause.TIMEOUT,
    ),
    (
        'Failed to pull image "registry.corp/app:1": rpc error: code = DeadlineExceeded desc = '
        "context deadline exceeded",
        PullCause.TIMEOUT,
    ),
    # TLS
    (
        'Failed to pull image "registry.corp/app:1": rpc error: code = Unknown desc = failed to '
        "pull and unpack image: failed to resolve reference: failed to do request: Head "
        '"https://registry.corp/v2/app/manifests/1": tls: failed to verify certificate: x509: '
        "certificate signed by unknown authority",
        PullCause.TLS_UNKNOWN_CA,
    ),
    (
        'Failed to pull image "registry.corp/app:1": Error response from daemon: Get '
        '"https://registry.corp/v2/": x509: certificate signed by unknown authority',
        PullCause.TLS_UNKNOWN_CA,
    ),
    (
        'Failed to pull image "10.0.0.5/app:1": rpc error: code = Unknown desc = failed to do '
        'request: Head "https://10.0.0.5/v2/app/manifests/1": tls: failed to verify certificate: '
        "x509: certificate is valid for registry.corp, not 10.0.0.5",
        PullCause.TLS_HOSTNAME,
    ),
    (
        'Failed to pull image "registry.corp:5000/app:1": rpc error: code = Unknown desc = failed '
        'to do request: Head "https://registry.corp:5000/v2/app/manifests/1": http: server gave '
        "HTTP response to HTTPS client",
        PullCause.PLAIN_HTTP_REGISTRY,
    ),
    # rate limit
    (
        'Failed to pull image "nginx:1.27": rpc error: code = Unknown desc = failed to pull and '
        'unpack image "docker.io/library/nginx:1.27": failed to copy: httpReadSeeker: failed open: '
        "unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:ab: "
        "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate "
        "limit. You may increase the limit by authenticating and upgrading: "
        "https://www.docker.com/increase-rate-limit",
        PullCause.RATE_LIMITED,
    ),
    (
        'Failed to pull image "nginx": Error response from daemon: toomanyrequests: You have '
        "reached your pull rate limit.",
        PullCause.RATE_LIMITED,
    ),
    # pull secret missing (kubelet warning event)
    (
        "Unable to retrieve some image pull secrets (registry-secret-2f1c); attempting to pull the "
        "image may not succeed.",
        PullCause.SECRET_MISSING,
    ),
    # invalid name
    (
        'Failed to apply default image tag "Ghcr.io/Cpoder/App:1": couldn\'t parse image '
        'reference "Ghcr.io/Cpoder/App:1": invalid reference format: repository name must be '
        "lowercase",
        PullCause.INVALID_IMAGE_NAME,
    ),
]


@pytest.mark.parametrize(("message", "cause"), TABLE)
def test_real_messages(message: str, cause: PullCause) -> None:
    diagnosis = explain_pull_failure("ErrImagePull", [message])
    assert diagnosis.cause is cause, diagnosis
    assert diagnosis.summary and diagnosis.fix
    assert diagnosis.evidence == message


def test_every_cause_but_live_only_ones_is_in_the_table() -> None:
    live_only = {PullCause.SECRET_NOT_MATCHING, PullCause.UNKNOWN, PullCause.NEVER_PULL}
    assert {c for _, c in TABLE} | live_only == set(PullCause)


def test_back_off_alone_says_nothing_the_events_say_it() -> None:
    backoff = f'Back-off pulling image "{IMG}"'
    events = ["Pulling image", FAILED + "manifest unknown", "Error: ErrImagePull"]
    diagnosis = explain_pull_failure("ImagePullBackOff", [backoff, *events])
    assert diagnosis.cause is PullCause.TAG_MISSING


def test_reason_only_causes() -> None:
    never = explain_pull_failure(
        "ErrImageNeverPull", ['Container image "app:1" is not present with pull policy of Never']
    )
    assert never.cause is PullCause.NEVER_PULL
    assert explain_pull_failure("InvalidImageName", []).cause is PullCause.INVALID_IMAGE_NAME


def test_unknown_messages_are_never_guessed() -> None:
    text = "rpc error: code = Unknown desc = something nobody has seen before"
    diagnosis = explain_pull_failure("ErrImagePull", [text])
    assert diagnosis.cause is PullCause.UNKNOWN and not diagnosis.known
    assert diagnosis.evidence == text
