"""The one exception tree of Vectis Admin.

Every layer raises these; each interface maps them exactly once (REST API -> HTTP status + JSON,
CLI -> exit code). Messages are written for operators and never carry a secret value.

    VectisError
    ├── InvalidInput            bad input: names each field and the rule it broke   (422 / exit 3)
    ├── NotFound                unknown id or name                                  (404 / exit 4)
    ├── Conflict                duplicate name, stale version, object in use        (409 / exit 5)
    ├── AuthenticationFailed    missing or wrong console credentials                (401 / exit 7)
    └── UpstreamError           a registry or Kubernetes API failed                 (502 / exit 6)
        └── KubeError           the Kubernetes API answered with an error, or not at all
            ├── KubeNotFound    404
            ├── KubeConflict    409 AlreadyExists / Conflict (stale resourceVersion)
            ├── KubeForbidden   401 / 403: the console's identity may not do this
            ├── KubeInvalid     400 / 422: the object was refused (names the field)
            └── KubeUnavailable 5xx, timeout, refused connection: worth retrying
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "FieldIssue",
    "InvalidInput",
    "KubeConflict",
    "KubeError",
    "KubeForbidden",
    "KubeInvalid",
    "KubeNotFound",
    "KubeUnavailable",
    "NotFound",
    "UpstreamError",
    "VectisError",
]


class VectisError(Exception):
    """Base of every error Vectis Admin raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One broken rule: `field` is a dotted path (`url`, `credentials.password`)."""

    field: str
    rule: str


class InvalidInput(VectisError):
    """Input that breaks a rule; nothing was changed."""

    code = "invalid_input"

    def __init__(self, issues: list[FieldIssue] | FieldIssue) -> None:
        self.issues = [issues] if isinstance(issues, FieldIssue) else list(issues)
        super().__init__("; ".join(f"{i.field}: {i.rule}" for i in self.issues))

    @classmethod
    def one(cls, field: str, rule: str) -> InvalidInput:
        return cls(FieldIssue(field, rule))


class NotFound(VectisError):
    code = "not_found"


class Conflict(VectisError):
    """Valid request that clashes with the current state (name taken, stale version, in use)."""

    code = "conflict"

    def __init__(self, message: str, *, reason: str = "conflict") -> None:
        super().__init__(message)
        self.reason = reason


class AuthenticationFailed(VectisError):
    code = "authentication_failed"


class UpstreamError(VectisError):
    """A system we depend on (registry, Kubernetes API) failed; the message is already scrubbed."""

    code = "upstream_error"


class KubeError(UpstreamError):
    """The Kubernetes API failed; `status` is the HTTP status when there was one."""

    code = "kubernetes_error"

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeNotFound(KubeError):
    pass


class KubeConflict(KubeError):
    pass


class KubeForbidden(KubeError):
    pass


class KubeInvalid(KubeError):
    pass


class KubeUnavailable(KubeError):
    """Retrying later may succeed: server errors, timeouts, connection failures."""
