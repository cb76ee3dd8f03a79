"""The registry catalogue: which kinds of registry the console knows and what each one needs.

A registry entry is only useful if the pull secret made from it works, and most failures are
visible before any network call: a Docker Hub URL filed as GHCR, a fine-grained GitHub token, a
GCR key that is not a service-account key, an ECR region that does not match the URL. This module
holds those rules, the user-facing hints for each kind, and the normalisation of registry URLs to
the bare `host[:port]` that Docker config keys and kubelet matching use. It does no I/O: whether
the credentials are accepted is for Test Connection to say.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from vectis_admin.domain.images import validate_repository_path, validate_tag
from vectis_admin.errors import FieldIssue, InvalidInput

__all__ = [
    "DOCKER_HUB_HOST",
    "GCR_USERNAMES",
    "KIND_INFO",
    "CredentialField",
    "KindInfo",
    "RegistryCheckResult",
    "RegistryKind",
    "TlsMode",
    "detect_kind",
    "ecr_host_parts",
    "kind_info",
    "normalize_registry_url",
    "validate_registry",
]


class TlsMode(StrEnum):
    """How the console and the nodes talk to the registry; anything but VERIFY is insecure."""

    VERIFY = "verify"
    SKIP_VERIFY = "skip-verify"
    PLAIN_HTTP = "http"


class RegistryKind(StrEnum):
    DOCKER_HUB = "dockerhub"
    GHCR = "ghcr"
    GCR = "gcr"
    ECR = "ecr"
    ACR = "acr"
    HARBOR = "harbor"
    GENERIC = "generic"


DOCKER_HUB_HOST: Final = "docker.io"
# Docker's own aliases for Docker Hub (moby registry constants); one stored form keeps lookups and
# duplicate detection simple.
_DOCKER_HUB_ALIASES: Final = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
GCR_USERNAMES: Final = ("_json_key", "_json_key_base64", "oauth2accesstoken")

_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_HOSTNAME_RE: Final = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
_IPV6_RE: Final = re.compile(r"\[[0-9a-f:.]+\]")
# kubernetes/cloud-provider-aws cmd/ecr-credential-provider: group 1 account, group 3 region.
_ECR_RE: Final = re.compile(
    r"(\d{12})\.dkr\.ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)"
    r"\.(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)"
)
_GCR_RE: Final = re.compile(r"gcr\.io|[a-z0-9-]+\.gcr\.io|[a-z0-9-]+-docker\.pkg\.dev")
_ACR_RE: Final = re.compile(r"[a-z0-9-]+\.azurecr\.(io|cn|de|us)")
_AWS_KEY_ID_RE: Final = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
_ROLE_ARN_RE: Final = re.compile(r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/.+")
_REGION_RE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_GUID_RE: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")

_URL_RULE: Final = "must be a host name with an optional port, without path, query or credentials"


# --- catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialField:
    """One entry of a kind's credentials dict, described for forms and the CLI."""

    name: str
    label: str
    secret: bool
    required: bool
    help: str
    default: str | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class KindInfo:
    """What the console knows about one kind of registry."""

    kind: RegistryKind
    label: str
    default_url: str | None
    credential_fields: tuple[CredentialField, ...]
    hint: str
    # True when the registry has no anonymous pulls at all (ECR): requires_auth cannot be off.
    auth_required: bool
    # What the URL must look like, for forms and for the error when it does not.
    url_rule: str
    # False for Harbor and generic registries: nothing in their host name gives them away.
    detectable: bool

    def credential_field(self, name: str) -> CredentialField | None:
        return next((f for f in self.credential_fields if f.name == name), None)


def _user_password(
    *, user_help: str, password_label: str, password_help: str, user_label: str = "User name"
) -> tuple[CredentialField, ...]:
    return (
        CredentialField(
            name="username", label=user_label, secret=False, required=True, help=user_help
        ),
        CredentialField(
            name="password", label=password_label, secret=True, required=True, help=password_help
        ),
    )


_GCR_FIELDS: Final = (
    CredentialField(
        name="username",
        label="User name",
        secret=False,
        required=True,
        help="_json_key (a service-account JSON key), _json_key_base64 (the same, base64) "
        "or oauth2accesstoken (a short-lived access token)",
        default="_json_key",
        choices=GCR_USERNAMES,
    ),
    CredentialField(
        name="password",
        label="Key or token",
        secret=True,
        required=True,
        help="The service-account JSON key, its base64 encoding, or an OAuth access token",
    ),
)

_ECR_FIELDS: Final = (
    # The key id is not a secret in AWS's sense, but together with the account id it identifies
    # a principal to an attacker; the console treats it as secret (masked, never logged).
    CredentialField(
        name="access_key_id",
        label="Access key id",
        secret=True,
        required=True,
        help="The IAM access key id (AKIA…)",
    ),
    CredentialField(
        name="secret_access_key",
        label="Secret access key",
        secret=True,
        required=True,
        help="The IAM secret access key",
    ),
    CredentialField(
        name="region",
        label="Region",
        secret=False,
        required=True,
        help="The AWS region of the registry, as in its URL (e.g. eu-west-1)",
    ),
    CredentialField(
        name="role_arn",
        label="Role ARN",
        secret=False,
        required=False,
        help="Optional IAM role to assume before asking for the registry token",
    ),
)


def _entries() -> dict[RegistryKind, KindInfo]:
    k = RegistryKind
    return {
        k.DOCKER_HUB: KindInfo(
            kind=k.DOCKER_HUB,
            label="Docker Hub",
            default_url=DOCKER_HUB_HOST,
            credential_fields=_user_password(
                user_label="Docker ID",
                user_help="Your Docker ID (the account name, not the e-mail address)",
                password_label="Access token",
                password_help="A Docker Hub access token (dckr_pat_…)",
            ),
            hint="Docker ID + an access token (dckr_pat_…) rather than the account password",
            auth_required=False,
            url_rule="docker.io (index.docker.io and registry-1.docker.io mean the same)",
            detectable=True,
        ),
        k.GHCR: KindInfo(
            kind=k.GHCR,
            label="GitHub Container Registry",
            default_url="ghcr.io",
            credential_fields=_user_password(
                user_help="Your GitHub user name",
                password_label="Personal access token",
                password_help="A classic personal access token (ghp_…) with read:packages",
            ),
            hint="GitHub user name + a classic Personal Access Token (ghp_…) with read:packages",
            auth_required=False,
            url_rule="ghcr.io",
            detectable=True,
        ),
        k.GCR: KindInfo(
            kind=k.GCR,
            label="Google Container Registry / Artifact Registry",
            default_url="gcr.io",
            credential_fields=_GCR_FIELDS,
            hint="_json_key + the service-account JSON key",
            auth_required=False,
            url_rule="gcr.io, a regional host such as eu.gcr.io, or LOCATION-docker.pkg.dev",
            detectable=True,
        ),
        k.ECR: KindInfo(
            kind=k.ECR,
            label="Amazon ECR",
            default_url=None,
            credential_fields=_ECR_FIELDS,
            hint="access key id + secret access key + region; the registry password is a "
            "12-hour token derived from them",
            auth_required=True,
            url_rule="ACCOUNT.dkr.ecr.REGION.amazonaws.com (12-digit account id)",
            detectable=True,
        ),
        k.ACR: KindInfo(
            kind=k.ACR,
            label="Azure Container Registry",
            default_url=None,
            credential_fields=_user_password(
                user_label="Application (client) id",
                user_help="The service principal's application (client) id, a GUID",
                password_label="Client secret",
                password_help="The service principal's client secret",
            ),
            hint="service principal application (client) id + client secret",
            auth_required=False,
            url_rule="NAME.azurecr.io (or .azurecr.cn, .azurecr.de, .azurecr.us)",
            detectable=True,
        ),
        k.HARBOR: KindInfo(
            kind=k.HARBOR,
            label="Harbor",
            default_url=None,
            credential_fields=_user_password(
                user_label="Robot account",
                user_help="A robot account name (robot$… or robot$project+name)",
                password_label="Secret",
                password_help="The robot account's secret",
            ),
            hint="robot account robot$… and its secret",
            auth_required=False,
            url_rule="the Harbor host name, with a port if it is not 443",
            detectable=False,
        ),
        k.GENERIC: KindInfo(
            kind=k.GENERIC,
            label="Generic registry",
            default_url=None,
            credential_fields=_user_password(
                user_help="The registry user name",
                password_label="Password",
                password_help="The password or an access token",
            ),
            hint="user name and password",
            auth_required=False,
            url_rule="the registry host name, with a port if it is not 443",
            detectable=False,
        ),
    }


KIND_INFO: Final[Mapping[RegistryKind, KindInfo]] = MappingProxyType(_entries())


def kind_info(kind: RegistryKind) -> KindInfo:
    return KIND_INFO[kind]


# --- URLs and hosts --------------------------------------------------------------------------


def normalize_registry_url(text: str, *, field: str = "url") -> str:
    """`https://Registry.Example.com:5000/` -> `registry.example.com:5000`.

    Registries are identified by host and port only: that is what Docker config keys and kubelet
    matching compare, so a path would silently never match. The scheme is dropped, as kubelet
    drops it. The rejected text is never quoted back: it may hold a password.
    """
    text = text.strip()
    if not text:
        raise InvalidInput.one(field, "must not be empty")
    if any(ch.isspace() for ch in text):
        raise InvalidInput.one(field, "must not contain spaces")
    scheme = _SCHEME_RE.match(text)
    if scheme is not None:
        if scheme.group(1).lower() not in ("http", "https"):
            raise InvalidInput.one(field, "must start with https://, http:// or the host name")
        text = text[scheme.end() :]
    authority = re.split(r"[/?#]", text, maxsplit=1)[0]
    if "@" in authority:
        raise InvalidInput.one(
            field, "must not contain credentials (user:password@); use the credential fields"
        )
    if text[len(authority) :] not in ("", "/"):
        raise InvalidInput.one(field, _URL_RULE)
    host, port = _split_host_port(authority.lower(), field=field)
    if port is None and host in _DOCKER_HUB_ALIASES:
        return DOCKER_HUB_HOST
    return host if port is None else f"{host}:{port}"


def detect_kind(host: str) -> RegistryKind | None:
    """The kind a normalised host belongs to, or None (Harbor and generic look alike).

    The port is ignored: a provider's host name identifies it whatever port a proxy adds.
    """
    name = _strip_port(host).lower()
    if name in _DOCKER_HUB_ALIASES:
        return RegistryKind.DOCKER_HUB
    if name == "ghcr.io":
        return RegistryKind.GHCR
    if _GCR_RE.fullmatch(name):
        return RegistryKind.GCR
    if _ECR_RE.fullmatch(name):
        return RegistryKind.ECR
    if _ACR_RE.fullmatch(name):
        return RegistryKind.ACR
    return None


def ecr_host_parts(host: str) -> tuple[str, str] | None:
    """`(account, region)` of an ECR host, or None when it is not one."""
    match = _ECR_RE.fullmatch(_strip_port(host).lower())
    return None if match is None else (match.group(1), match.group(3))


def _split_host_port(authority: str, *, field: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        host, bracket, rest = authority.partition("]")
        host += bracket
        if not _is_ipv6(host) or (rest and not rest.startswith(":")):
            raise InvalidInput.one(field, _URL_RULE)
        port = rest[1:] if rest else None
    else:
        host, colon, port_text = authority.partition(":")
        port = port_text if colon else None
        if len(host) > 253 or not _HOSTNAME_RE.fullmatch(host):
            raise InvalidInput.one(field, _URL_RULE)
    if port is None:
        return host, None
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise InvalidInput.one(field, "must have a port from 1 to 65535, if any")
    return host, str(int(port))


def _is_ipv6(bracketed: str) -> bool:
    if not _IPV6_RE.fullmatch(bracketed):
        return False
    try:
        ipaddress.IPv6Address(bracketed[1:-1])
    except ValueError:
        return False
    return True


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


# --- validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryCheckResult:
    """A registry definition that passed every rule, cleaned, with advice that did not block it."""

    url: str
    image_path: str | None
    default_tag: str | None
    warnings: tuple[str, ...]
    credentials: dict[str, str] = dataclasses.field(repr=False)
    ca_bundle: str | None = None


class _Report:
    """Collects every broken rule and warning of one validation, to raise once."""

    def __init__(self) -> None:
        self.issues: list[FieldIssue] = []
        self.warnings: list[str] = []

    def error(self, field_name: str, rule: str) -> None:
        self.issues.append(FieldIssue(field_name, rule))

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def run(self, check: Callable[..., str], value: str, *, field: str) -> None:
        try:
            check(value, field=field)
        except InvalidInput as exc:
            self.issues.extend(exc.issues)


def validate_registry(
    *,
    kind: RegistryKind,
    url: str | None,
    image_path: str | None,
    default_tag: str | None,
    requires_auth: bool,
    credentials: Mapping[str, str] | None,
    credentials_required: bool,
    tls_mode: TlsMode = TlsMode.VERIFY,
    ca_bundle: str | None = None,
) -> RegistryCheckResult:
    """Check a registry definition against the rules of its kind; raise every issue at once.

    `credentials_required=False` is the update case: omitted (or blank) credential fields mean
    "keep the stored ones", so only the fields present are checked, and rules that relate two
    fields (GCR user name and key) run only when both are present.
    """
    info = kind_info(kind)
    report = _Report()
    clean_url = _check_url(info, url, report)
    path = _blank_to_none(image_path)
    if path is not None:
        report.run(validate_repository_path, path, field="image_path")
    tag = _blank_to_none(default_tag)
    if tag is not None:
        report.run(validate_tag, tag, field="default_tag")
    if info.auth_required and not requires_auth:
        report.error("requires_auth", f"must be on: {info.label} has no anonymous pulls")
    creds = _clean_credentials(info, credentials, report)
    if not requires_auth:
        if creds:
            report.error(
                "credentials", "must be empty when the registry does not require authentication"
            )
        creds = {}
    else:
        if credentials_required:
            _require_fields(info, creds, report)
        _KIND_CHECKS[kind](creds, clean_url, report)
    bundle = _check_tls(info, tls_mode, ca_bundle, report)
    if report.issues or clean_url is None:  # an invalid URL always left an issue
        raise InvalidInput(report.issues)
    return RegistryCheckResult(
        url=clean_url,
        image_path=path,
        default_tag=tag,
        warnings=tuple(report.warnings),
        credentials=creds,
        ca_bundle=bundle,
    )


_PEM_CERT_RE: Final = re.compile(
    r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----"
)


def _check_tls(
    info: KindInfo, tls_mode: TlsMode, ca_bundle: str | None, report: _Report
) -> str | None:
    """A CA bundle holds certificates only; insecure modes only for self-hosted registries."""
    if tls_mode is not TlsMode.VERIFY and info.detectable:
        report.error("tls_mode", f"must be verify: {info.label} always serves trusted HTTPS")
    elif tls_mode is TlsMode.SKIP_VERIFY:
        report.warn(
            "TLS verification is off for this registry: anyone on the path can impersonate it. "
            "Add its CA bundle instead; nodes also need it in their container runtime's config."
        )
    elif tls_mode is TlsMode.PLAIN_HTTP:
        report.warn(
            "plain HTTP: credentials and images travel unencrypted. Development only; nodes "
            "must list this registry as insecure in their container runtime's config."
        )
    bundle = (ca_bundle or "").strip()
    if not bundle:
        return None
    if "PRIVATE KEY" in bundle:
        report.error("ca_bundle", "must hold CA certificates only, never a private key")
        return None
    if not _PEM_CERT_RE.search(bundle):
        report.error("ca_bundle", "must hold one or more PEM certificates (BEGIN CERTIFICATE)")
        return None
    if tls_mode is TlsMode.PLAIN_HTTP:
        report.error("ca_bundle", "is meaningless with plain HTTP; remove it or use TLS")
    return bundle + "\n"


def _blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_url(info: KindInfo, url: str | None, report: _Report) -> str | None:
    text = _blank_to_none(url) or info.default_url
    if text is None:
        report.error("url", f"is required for {info.label}: {info.url_rule}")
        return None
    try:
        clean = normalize_registry_url(text, field="url")
    except InvalidInput as exc:
        report.issues.extend(exc.issues)
        return None
    detected = detect_kind(clean)
    if info.detectable and detected is not info.kind:
        seems = f"; this host looks like {kind_info(detected).label}" if detected else ""
        report.error("url", f"must be a {info.label} host: {info.url_rule}{seems}")
    elif not info.detectable and detected is not None:
        report.warn(
            f"This URL looks like {kind_info(detected).label}: choose the kind "
            f'"{detected.value}" to get its specific checks and hints.'
        )
    return clean


def _clean_credentials(
    info: KindInfo, credentials: Mapping[str, str] | None, report: _Report
) -> dict[str, str]:
    """Strip values (pasted tokens carry stray spaces and newlines) and drop blank ones."""
    clean: dict[str, str] = {}
    names = [f.name for f in info.credential_fields]
    for name, value in (credentials or {}).items():
        if name not in names:
            report.error(
                f"credentials.{name}",
                f"is not a credential of {info.label}; expected {', '.join(names)}",
            )
        elif value.strip():
            clean[name] = value.strip()
    return clean


def _require_fields(info: KindInfo, creds: dict[str, str], report: _Report) -> None:
    for spec in info.credential_fields:
        if spec.name in creds or not spec.required:
            continue
        if spec.default is not None:
            creds[spec.name] = spec.default
        else:
            report.error(f"credentials.{spec.name}", f"is required for {info.label}")


# --- per-kind credential rules ---------------------------------------------------------------
# Each takes the cleaned credentials (it may rewrite them), the normalised URL (None when the URL
# was invalid) and the report. Only prefixes of secrets are ever mentioned, never values.


def _check_docker_hub(creds: dict[str, str], url: str | None, report: _Report) -> None:
    password = creds.get("password")
    if password is not None and not password.startswith("dckr_pat_"):
        report.warn(
            "The password is not a Docker Hub access token (dckr_pat_…): create an access "
            "token in Docker Hub and use it rather than the account password."
        )


_GITHUB_SHORT_LIVED: Final = ("gho_", "ghu_", "ghs_", "ghr_")


def _check_ghcr(creds: dict[str, str], url: str | None, report: _Report) -> None:
    password = creds.get("password")
    if password is None or password.startswith("ghp_"):
        return
    if password.startswith("github_pat_"):
        report.warn(
            "This is a fine-grained personal access token (github_pat_…): GitHub Packages has "
            "long refused them; use a classic token (ghp_…) with read:packages. "
            "Test Connection gives the verdict."
        )
    elif password.startswith(_GITHUB_SHORT_LIVED):
        report.warn(
            f"This GitHub token ({password[:4]}…) is short-lived and will stop working; "
            "store a classic personal access token (ghp_…) with read:packages instead."
        )
    else:
        report.warn(
            "The password does not look like a GitHub token: GitHub Container Registry needs "
            "a classic personal access token (ghp_…) with read:packages, not the account password."
        )


def _check_gcr(creds: dict[str, str], url: str | None, report: _Report) -> None:
    username = creds.get("username")
    if username is not None and username not in GCR_USERNAMES:
        report.error("credentials.username", f"must be one of {', '.join(GCR_USERNAMES)}")
        return
    password = creds.get("password")
    if username is None or password is None:
        return
    if username == "_json_key":
        # `docker login -u _json_key` expects the key on one line; newlines between JSON tokens
        # are insignificant (the private key's are escaped as \n), so removing them is lossless.
        password = password.replace("\r", "").replace("\n", "")
        creds["password"] = password
        _check_json_key(password, report, what="the service-account JSON key")
    elif username == "_json_key_base64":
        # `base64 key.json` wraps its output at 76 columns; the wrapping is not part of it.
        password = "".join(password.split())
        creds["password"] = password
        try:
            decoded = base64.b64decode(password, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            report.error(
                "credentials.password",
                "must be the base64 encoding of the service-account JSON key",
            )
            return
        _check_json_key(decoded, report, what="the base64-decoded service-account JSON key")
    else:
        report.warn(
            "oauth2accesstoken passwords are access tokens that expire within about an hour; "
            "a stored one will soon stop working. Prefer _json_key with a service-account key."
        )


_JSON_KEY_FIELDS: Final = ("type", "client_email", "private_key")


def _check_json_key(text: str, report: _Report, *, what: str) -> None:
    # The key's content never appears in a message, not even json's error (it quotes nothing,
    # but a future version might).
    try:
        key = json.loads(text)
    except ValueError:
        report.error("credentials.password", f"must be {what}: it is not valid JSON")
        return
    if not isinstance(key, dict):
        report.error("credentials.password", f"must be {what}: a JSON object")
        return
    missing = [name for name in _JSON_KEY_FIELDS if name not in key]
    if missing:
        report.error(
            "credentials.password",
            f"must be {what}: it has no {', '.join(repr(n) for n in missing)}",
        )
    elif key["type"] != "service_account":
        report.warn(
            'The JSON key\'s "type" is not "service_account": registries expect a '
            "service-account key, other credentials are usually refused."
        )


def _check_ecr(creds: dict[str, str], url: str | None, report: _Report) -> None:
    key_id = creds.get("access_key_id")
    if key_id is not None:
        if not _AWS_KEY_ID_RE.fullmatch(key_id):
            report.error(
                "credentials.access_key_id",
                "must be an AWS access key id: AKIA or ASIA and 16 upper-case letters or digits",
            )
        elif key_id.startswith("ASIA"):
            report.warn(
                "ASIA… access keys are temporary and need a session token, which is not stored; "
                "use a long-term AKIA… key (with a role ARN to narrow its rights)."
            )
    _check_ecr_region(creds.get("region"), url, report)
    role_arn = creds.get("role_arn")
    if role_arn is not None and not _ROLE_ARN_RE.fullmatch(role_arn):
        report.error(
            "credentials.role_arn", "must be an IAM role ARN: arn:aws:iam::<12 digits>:role/<name>"
        )


def _check_ecr_region(region: str | None, url: str | None, report: _Report) -> None:
    if region is None:
        return
    if not _REGION_RE.fullmatch(region):
        report.error("credentials.region", "must be an AWS region name such as eu-west-1")
        return
    parts = ecr_host_parts(url) if url is not None else None
    if parts is not None and parts[1] != region:
        # Region names are public identifiers, so naming both is safe and helps.
        report.error(
            "credentials.region",
            f'must be the region of the registry URL ("{parts[1]}"), not "{region}"',
        )


def _check_acr(creds: dict[str, str], url: str | None, report: _Report) -> None:
    username = creds.get("username")
    if username is not None and not _GUID_RE.fullmatch(username):
        report.warn(
            "The user name is not an application (client) id: it looks like an admin user or "
            "token name; a service principal is recommended."
        )


def _check_harbor(creds: dict[str, str], url: str | None, report: _Report) -> None:
    username = creds.get("username")
    if username is not None and not username.startswith("robot$"):
        report.warn(
            "The user name does not start with robot$: a robot account is recommended over a "
            "personal account (unless this Harbor uses another robot prefix)."
        )


def _check_nothing(creds: dict[str, str], url: str | None, report: _Report) -> None:
    return None


_KIND_CHECKS: Final[
    Mapping[RegistryKind, Callable[[dict[str, str], str | None, _Report], None]]
] = MappingProxyType(
    {
        RegistryKind.DOCKER_HUB: _check_docker_hub,
        RegistryKind.GHCR: _check_ghcr,
        RegistryKind.GCR: _check_gcr,
        RegistryKind.ECR: _check_ecr,
        RegistryKind.ACR: _check_acr,
        RegistryKind.HARBOR: _check_harbor,
        RegistryKind.GENERIC: _check_nothing,
    }
)
