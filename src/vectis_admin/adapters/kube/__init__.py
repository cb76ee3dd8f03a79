"""The Kubernetes adapter: `ClusterGateway` and `KubeConnector` over lightkube (sync client).

lightkube is the product's one Kubernetes client: httpx-based like the registry client, typed
models, sync and async clients, and small enough to read. See `gateway` for the choke point and
`access` for how access settings become a lightkube configuration and a TLS context.
"""

from vectis_admin.adapters.kube.access import ClusterTarget, resolve_access
from vectis_admin.adapters.kube.gateway import KINDS, LightkubeConnector, LightkubeGateway

__all__ = ["KINDS", "ClusterTarget", "LightkubeConnector", "LightkubeGateway", "resolve_access"]
