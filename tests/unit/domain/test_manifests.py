"""Rendered Kubernetes objects: schema-valid for 1.25 and 1.37, consistent, and secret-safe."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from typing import Any

import kubernetes_validate
import pytest
import yaml

from vectis_admin.domain.dockerconfig import DOCKER_HUB_KEY, build_dockerconfigjson
from vectis_admin.domain.kubelet_match import pull_secret_matches
from vectis_admin.domain.manifests import (
    CONTENT_HASH_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    REGISTRY_ID_LABEL,
    ClusterSpec,
    Environment,
    content_hash,
    dockerconfigjson_text,
    is_managed,
    pull_secret,
    pull_secret_name,
    render_cluster,
    render_multi_document,
    selector_labels,
)
from vectis_admin.errors import InvalidInput

KUBERNETES_VERSIONS = ("1.25", "1.37")
REGISTRY_ID = "0b7c6a7e-3f0e-4b52-9d8e-2f1a6f1d9c11"
FAKE_PASSWORD = "fake-" + "registry-" + "password"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
DNS_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def make_secret(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "registry_id": REGISTRY_ID,
        "registry_name": "Team registry",
        "server_host": "ghcr.io",
        "username": "octo-bot",
        "password": FAKE_PASSWORD,
        "namespace": "vectis",
        **overrides,
    }
    return pull_secret(**args)


def make_spec(**overrides: Any) -> ClusterSpec:
    args: dict[str, Any] = {
        "name": "Production A",
        "namespace": "vectis",
        "deployment_name": "vectis-a",
        "image": "ghcr.io/cpoder/vectis-server:1.4.2",
        "storage_host_path": "/var/lib/vectis/a",
        "environment": Environment.PRODUCTION,
        "pull_secret_name": pull_secret_name(REGISTRY_ID),
        "cluster_id": "5d2f3c1a-7a41-4d7e-8a0c-0e2b7c9d4f10",
        **overrides,
    }
    return ClusterSpec(**args)


def rendered(spec: ClusterSpec) -> list[dict[str, Any]]:
    """Everything Deploy creates for `spec`, its pull secret included when it has one."""
    return render_cluster(spec, pull_secret=make_secret() if spec.pull_secret_name else None)


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects}


SPECS = [
    pytest.param({}, id="default"),
    pytest.param({"pull_secret_name": None}, id="public-image"),
    pytest.param({"service_type": "NodePort", "replicas": 1}, id="nodeport"),
    pytest.param({"create_namespace": False, "cluster_id": None}, id="existing-namespace"),
    pytest.param({"extra_labels": {"team": "data", "example.com/tier": "gold"}}, id="labels"),
    pytest.param({"image": "nginx", "vectis_port": 8080, "replicas": 10}, id="short-image"),
]


# --- schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overrides", SPECS)
def test_every_object_validates_strictly(overrides: dict[str, Any], version: str) -> None:
    for obj in rendered(make_spec(**overrides)):
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure path
            pytest.fail(f"{obj['kind']} invalid for {version}: {exc.message} at {list(exc.path)}")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("server", ["docker.io", "ghcr.io", "registry.local:5000"])
def test_pull_secret_validates_strictly(server: str, version: str) -> None:
    kubernetes_validate.validate(make_secret(server_host=server), version, strict=True)


# --- order and consistency -------------------------------------------------------------------


def test_apply_order() -> None:
    kinds = [o["kind"] for o in render_cluster(make_spec(), pull_secret=make_secret())]
    assert kinds == [
        "Namespace",
        "Secret",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
    ]
    kinds = [o["kind"] for o in render_cluster(make_spec(create_namespace=False))]
    assert kinds[0] == "ServiceAccount"
    assert "Secret" not in kinds


@pytest.mark.parametrize("overrides", SPECS)
def test_references_between_objects_agree(overrides: dict[str, Any]) -> None:
    spec = make_spec(**overrides)
    objs = by_kind(render_cluster(spec))
    deployment, service = objs["Deployment"], objs["Service"]
    template = deployment["spec"]["template"]
    pod = template["spec"]
    (container,) = pod["containers"]
    selector = deployment["spec"]["selector"]["matchLabels"]

    assert selector == selector_labels(spec)
    assert selector.items() <= template["metadata"]["labels"].items()
    assert service["spec"]["selector"] == selector
    assert service["spec"]["type"] == spec.service_type

    port_name = container["ports"][0]["name"]
    assert container["ports"][0]["containerPort"] == spec.vectis_port
    assert service["spec"]["ports"][0]["port"] == spec.vectis_port
    assert service["spec"]["ports"][0]["targetPort"] == port_name
    assert container["readinessProbe"]["tcpSocket"]["port"] == port_name
    assert container["livenessProbe"]["tcpSocket"]["port"] == port_name

    sa_name = objs["ServiceAccount"]["metadata"]["name"]
    assert pod["serviceAccountName"] == sa_name
    binding = objs["RoleBinding"]
    assert binding["roleRef"]["name"] == objs["Role"]["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa_name, "namespace": spec.namespace}
    ]
    assert objs["Role"]["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ]

    config = objs["ConfigMap"]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    # The peer selector the servers use finds exactly the Deployment's pods.
    wanted = dict(
        p.split("=") for p in config["data"]["VECTIS_DISCOVERY_LABEL_SELECTOR"].split(",")
    )
    assert wanted == selector
    assert config["data"]["VECTIS_PORT"] == str(spec.vectis_port)
    assert config["data"]["VECTIS_CLUSTER_NAME"] == spec.name
    assert {e["name"] for e in container["env"]} >= {"POD_NAME", "POD_NAMESPACE", "POD_IP"}

    pv, pvc = objs["PersistentVolume"], objs["PersistentVolumeClaim"]
    assert pv["spec"]["hostPath"]["path"] == spec.storage_host_path
    assert pv["spec"]["claimRef"]["name"] == pvc["metadata"]["name"]
    assert pv["spec"]["claimRef"]["namespace"] == spec.namespace
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
    assert pv["spec"]["storageClassName"] == pvc["spec"]["storageClassName"] == ""
    (volume,) = pod["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert container["volumeMounts"][0]["name"] == volume["name"]
    assert deployment["spec"]["replicas"] == spec.replicas


@pytest.mark.parametrize("overrides", SPECS)
def test_every_object_is_labelled_and_placed(overrides: dict[str, Any]) -> None:
    spec = make_spec(**overrides)
    for obj in rendered(spec):
        metadata = obj["metadata"]
        assert is_managed(obj)
        assert metadata["labels"][MANAGED_BY_LABEL] == MANAGED_BY
        cluster_scoped = obj["kind"] in ("Namespace", "PersistentVolume")
        assert ("namespace" in metadata) is not cluster_scoped
        if not cluster_scoped:
            assert metadata["namespace"] == spec.namespace
        for key, value in spec.extra_labels.items():
            if obj["kind"] not in ("Namespace", "Secret"):
                assert metadata["labels"][key] == value


def test_image_pull_secrets_only_with_a_secret() -> None:
    with_secret = by_kind(render_cluster(make_spec()))["Deployment"]
    pod = with_secret["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": f"registry-secret-{REGISTRY_ID}"}]
    without = by_kind(render_cluster(make_spec(pull_secret_name=None)))["Deployment"]
    assert "imagePullSecrets" not in without["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    ("image", "rendered"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("cpoder/vectis-server", "docker.io/cpoder/vectis-server:latest"),
        ("registry.local:5000/vectis:2", "registry.local:5000/vectis:2"),
    ],
)
def test_image_is_rendered_normalised(image: str, rendered: str) -> None:
    deployment = by_kind(render_cluster(make_spec(image=image)))["Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == rendered


def test_config_change_changes_the_pod_template() -> None:
    def template_annotations(spec: ClusterSpec) -> dict[str, str]:
        deployment = by_kind(render_cluster(spec))["Deployment"]
        return dict(deployment["spec"]["template"]["metadata"]["annotations"])

    spec = make_spec()
    assert template_annotations(spec) == template_annotations(make_spec())
    assert template_annotations(spec) != template_annotations(replace(spec, replicas=4))


@pytest.mark.parametrize("overrides", SPECS)
def test_names_and_label_values_within_limits(overrides: dict[str, Any]) -> None:
    for obj in rendered(make_spec(**overrides)):
        name = obj["metadata"]["name"]
        assert len(name) <= 253 and DNS_SUBDOMAIN_RE.fullmatch(name), name
        labels = dict(obj["metadata"]["labels"])
        if obj["kind"] == "Deployment":
            labels |= obj["spec"]["template"]["metadata"]["labels"]
        for value in labels.values():
            assert len(value) <= 63 and LABEL_VALUE_RE.fullmatch(value), value


def test_longest_names_still_fit() -> None:
    spec = make_spec(namespace="n" * 63, deployment_name="d" * 63)
    objects = render_cluster(spec)
    assert max(len(o["metadata"]["name"]) for o in objects) <= 253


# --- pull secrets ----------------------------------------------------------------------------


def test_pull_secret_shape() -> None:
    secret = make_secret()
    name = pull_secret_name(REGISTRY_ID)
    assert name == f"registry-secret-{REGISTRY_ID}"
    assert len(name) == 52
    assert secret["metadata"]["name"] == name
    assert secret["metadata"]["namespace"] == "vectis"
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY
    assert secret["metadata"]["labels"][REGISTRY_ID_LABEL] == REGISTRY_ID
    assert set(secret["data"]) == {".dockerconfigjson"}


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ("docker.io", DOCKER_HUB_KEY),
        ("https://registry-1.docker.io", DOCKER_HUB_KEY),
        ("ghcr.io", "ghcr.io"),
        ("https://Registry.Local:5000/", "registry.local:5000"),
    ],
)
def test_pull_secret_payload_is_the_kubectl_payload(server: str, key: str) -> None:
    secret = make_secret(server_host=server)
    text = dockerconfigjson_text(secret)
    assert text == build_dockerconfigjson(key, "octo-bot", FAKE_PASSWORD)
    assert base64.b64decode(secret["data"][".dockerconfigjson"]).decode() == text


@pytest.mark.parametrize(
    ("server", "image"),
    [
        ("docker.io", "nginx"),
        ("docker.io", "cpoder/vectis-server:1"),
        ("ghcr.io", "ghcr.io/cpoder/vectis-server:1"),
        ("registry.local:5000", "registry.local:5000/vectis"),
        (ECR, f"{ECR}/vectis"),
    ],
)
def test_kubelet_uses_our_secret_for_the_registrys_images(server: str, image: str) -> None:
    text = dockerconfigjson_text(make_secret(server_host=server))
    assert text is not None
    assert pull_secret_matches(text, image).matched


def test_content_hash_annotation() -> None:
    secret = make_secret()
    text = dockerconfigjson_text(secret)
    assert text is not None
    expected = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert secret["metadata"]["annotations"][CONTENT_HASH_ANNOTATION] == expected
    assert content_hash(secret) == expected
    # Same credentials, same hash; a rotated password changes it.
    assert content_hash(make_secret()) == expected
    assert content_hash(make_secret(password="another-fake-password")) != expected
    # The namespace and the registry's display name are not content.
    assert content_hash(make_secret(namespace="other", registry_name="x")) == expected


def test_content_hash_detects_an_edit_in_the_cluster() -> None:
    secret = make_secret()
    edited = json.loads(json.dumps(secret))
    other = build_dockerconfigjson("ghcr.io", "octo-bot", "edited-by-hand")
    edited["data"][".dockerconfigjson"] = base64.b64encode(other.encode()).decode()
    assert content_hash(edited) != edited["metadata"]["annotations"][CONTENT_HASH_ANNOTATION]


def test_content_hash_reads_string_data_and_tolerates_garbage() -> None:
    text = build_dockerconfigjson("ghcr.io", "octo-bot", FAKE_PASSWORD)
    assert content_hash({"stringData": {".dockerconfigjson": text}}) == content_hash(make_secret())
    assert content_hash({"data": {".dockerconfigjson": "%%%"}}) is None
    assert content_hash({"data": {}}) is None
    assert content_hash({}) is None


def test_is_managed() -> None:
    assert is_managed(make_secret())
    assert not is_managed({"metadata": {"name": "x"}})
    assert not is_managed({"metadata": {"labels": {MANAGED_BY_LABEL: "helm"}}})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"registry_id": "Not-Lower"}, "registry_id"),
        ({"registry_id": "a" * 64}, "registry_id"),
        ({"registry_id": "-x"}, "registry_id"),
        ({"namespace": "Vectis"}, "namespace"),
        ({"namespace": "n" * 64}, "namespace"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"server_host": "https://ghcr.io/some/path"}, "host"),
    ],
)
def test_pull_secret_refuses_bad_input(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_secret(**overrides)
    assert field in {i.field for i in caught.value.issues}
    assert FAKE_PASSWORD not in caught.value.message


# --- cluster spec validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"replicas": 0}, "replicas"),
        ({"replicas": 11}, "replicas"),
        ({"replicas": True}, "replicas"),
        ({"vectis_port": 0}, "vectis_port"),
        ({"vectis_port": 65536}, "vectis_port"),
        ({"storage_host_path": "data/vectis"}, "storage_host_path"),
        ({"storage_host_path": "/var/../etc"}, "storage_host_path"),
        ({"storage_size": "lots"}, "storage_size"),
        ({"namespace": "Vectis"}, "namespace"),
        ({"namespace": "n" * 64}, "namespace"),
        ({"deployment_name": "1vectis"}, "deployment_name"),  # Service names start with a letter
        ({"deployment_name": "vectis_a"}, "deployment_name"),
        ({"deployment_name": "d" * 64}, "deployment_name"),
        ({"name": "  "}, "name"),
        ({"image": "Not An Image"}, "image"),
        ({"service_type": "ClusterIP"}, "service_type"),
        ({"pull_secret_name": "Bad_Name"}, "pull_secret_name"),
        ({"cluster_id": "x" * 64}, "cluster_id"),
        ({"extra_labels": {"app.kubernetes.io/name": "x"}}, "extra_labels.app.kubernetes.io/name"),
        ({"extra_labels": {"vectis.io/x": "y"}}, "extra_labels.vectis.io/x"),
        ({"extra_labels": {"team": "has space"}}, "extra_labels.team"),
        ({"extra_labels": {"-bad": "x"}}, "extra_labels.-bad"),
        ({"extra_labels": {"Bad_Prefix/x": "y"}}, "extra_labels.Bad_Prefix/x"),
    ],
)
def test_cluster_spec_refuses_bad_input(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_spec(**overrides)
    assert field in {i.field for i in caught.value.issues}


def test_cluster_spec_reports_every_issue_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        make_spec(replicas=0, vectis_port=0, namespace="BAD")
    assert {i.field for i in caught.value.issues} >= {"replicas", "vectis_port", "namespace"}


def test_cluster_spec_labels_cannot_change_behind_its_back() -> None:
    labels = {"team": "data"}
    spec = make_spec(extra_labels=labels)
    labels["team"] = "changed"
    assert spec.extra_labels["team"] == "data"
    with pytest.raises(TypeError):
        spec.extra_labels["team"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    "secret",
    [
        make_secret(registry_id="aaaaaaaa-0000-4000-8000-000000000000"),  # another name
        make_secret(namespace="elsewhere"),
    ],
)
def test_render_refuses_a_secret_that_does_not_belong(secret: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        render_cluster(make_spec(), pull_secret=secret)


# --- multi-document output -------------------------------------------------------------------


def documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def test_render_without_secrets_never_shows_the_password() -> None:
    objects = render_cluster(make_spec(), pull_secret=make_secret())
    text = render_multi_document(objects, include_secrets=False)
    secret = objects[1]
    assert FAKE_PASSWORD not in text
    assert secret["data"][".dockerconfigjson"] not in text
    assert base64.b64encode(f"octo-bot:{FAKE_PASSWORD}".encode()).decode() not in text
    assert documents(text) == [o for o in objects if o["kind"] != "Secret"]
    # … and says how to create the secret, with a placeholder for the password.
    assert f"# Secret vectis/registry-secret-{REGISTRY_ID}" in text
    assert f"kubectl create secret docker-registry registry-secret-{REGISTRY_ID}" in text
    assert "--docker-server=ghcr.io --docker-username=octo-bot" in text
    assert "--docker-password='<password>'" in text
    assert f"vectis.io/registry-id={REGISTRY_ID}" in text


def test_render_without_secrets_has_no_empty_document() -> None:
    objects = render_cluster(make_spec(), pull_secret=make_secret())
    text = render_multi_document(objects, include_secrets=False)
    header, *parts = text.split("\n---\n")
    assert header.startswith("# Rendered by vectis-admin")
    assert len(parts) == len(objects) - 1  # one per object but the Secret
    assert all(json.loads(part[part.index("{") :]) for part in parts)


def test_render_only_a_secret() -> None:
    text = render_multi_document([make_secret()], include_secrets=False)
    assert documents(text) == []
    assert "kubectl create secret docker-registry" in text
    assert FAKE_PASSWORD not in text


def test_render_with_secrets_includes_them() -> None:
    objects = render_cluster(make_spec(), pull_secret=make_secret())
    text = render_multi_document(objects, include_secrets=True)
    assert documents(text) == objects
    assert "kubectl create secret" not in text


def test_docker_hub_comment_uses_kubectls_default_server() -> None:
    text = render_multi_document([make_secret(server_host="docker.io")], include_secrets=False)
    assert f"--docker-server={DOCKER_HUB_KEY} " in text


def test_values_cannot_break_out_of_comments_or_documents() -> None:
    hostile = "x\nkind: Evil\n---\n# \u2028\u0085"
    secret = make_secret(username=hostile)
    spec = make_spec(name=hostile)
    objects = render_cluster(spec, pull_secret=secret)
    text = render_multi_document(objects, include_secrets=False)
    assert "--docker-username=<username>" in text
    assert "\nkind: Evil" not in text
    assert "\u2028" not in text
    assert "\u0085" not in text
    parsed = documents(text)
    assert parsed == [o for o in objects if o["kind"] != "Secret"]
    assert by_kind(parsed)["ConfigMap"]["data"]["VECTIS_CLUSTER_NAME"] == hostile


def test_shell_metacharacters_in_the_comment_are_quoted() -> None:
    text = render_multi_document([make_secret(username="robot$ci")], include_secrets=False)
    assert "--docker-username='robot$ci'" in text
