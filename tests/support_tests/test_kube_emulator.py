"""Tests of the Kubernetes API emulator (tests/support/kube_emulator.py).

Each rule of TESTING.md §3 is exercised through lightkube's sync client (the product's client)
and, where exact statuses, headers and bodies matter, through raw httpx.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from lightkube import ApiError, Client, operators
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.authorization_v1 import SelfSubjectAccessReview
from lightkube.resources.core_v1 import (
    ConfigMap,
    Event,
    Namespace,
    PersistentVolumeClaim,
    Pod,
    Secret,
    Service,
    ServiceAccount,
)
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding
from lightkube.types import PatchType

from tests.support.kube_emulator import EmulatorError, KubeEmulator

JSON = dict[str, Any]
SECRETS = "/api/v1/namespaces/default/secrets"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emulator:
        yield emulator
        assert emulator.internal_errors == []


@pytest.fixture
def client(kube: KubeEmulator) -> Iterator[Client]:
    with kube.lightkube_client() as lightkube_client:
        yield lightkube_client


@pytest.fixture
def http(kube: KubeEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kube.base_url, headers=kube.auth_headers, trust_env=False) as c:
        yield c


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def pull_secret(name: str = "pull", server: str = "https://index.docker.io/v1/") -> JSON:
    """A pull secret exactly as ``kubectl create secret docker-registry`` builds it."""
    entry = {"username": "u", "password": "p", "email": "e@example.com", "auth": b64("u:p")}
    payload = json.dumps({"auths": {server: entry}}, separators=(",", ":"))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(payload)},
    }


def deployment(name: str = "web", **spec: Any) -> JSON:
    manifest: JSON = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example.com/app:1.0",
                            "ports": [{"containerPort": 8080}],
                        },
                    ],
                    "imagePullSecrets": [{"name": "pull"}],
                },
            },
        },
    }
    manifest["spec"].update(spec)
    return manifest


def status_of(response: httpx.Response) -> JSON:
    assert response.headers["content-type"] == "application/json"
    body: JSON = response.json()
    assert body["kind"] == "Status" and body["code"] == response.status_code
    return body


# ------------------------------------------------------------------- 1. Status bodies


def test_not_found_is_an_exact_status_body(http: httpx.Client) -> None:
    response = http.get(SECRETS + "/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'secrets "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "secrets"},
        "code": 404,
    }


def test_grouped_resources_name_their_group(http: httpx.Client) -> None:
    body = status_of(http.get(DEPLOYMENTS + "/nope"))
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_already_exists_through_lightkube(client: Client) -> None:
    client.create(Secret.from_dict(pull_secret()))
    with pytest.raises(ApiError) as error:
        client.create(Secret.from_dict(pull_secret()))
    status = error.value.status
    assert (status.code, status.reason) == (409, "AlreadyExists")
    assert status.message == 'secrets "pull" already exists'


def test_delete_answers_a_success_status(client: Client, http: httpx.Client) -> None:
    created = client.create(Secret.from_dict(pull_secret()))
    response = http.delete(SECRETS + "/pull")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "pull", "kind": "secrets", "uid": created.metadata.uid},
    }
    assert status_of(http.delete(SECRETS + "/pull"))["code"] == 404
    client.create(Secret.from_dict(pull_secret()))
    client.delete(Secret, "pull")
    assert list(client.list(Secret)) == []


def test_unknown_paths_resources_and_methods(http: httpx.Client) -> None:
    response = http.get("/nope")
    assert (response.status_code, response.headers["content-type"]) == (
        404,
        "text/plain; charset=utf-8",
    )
    body = status_of(http.get("/api/v1/namespaces/default/widgets"))
    assert body["message"] == "the server could not find the requested resource"
    assert status_of(http.put(SECRETS, json={}))["code"] == 405
    assert status_of(http.put("/api/v1/namespaces/default/pods/x/log", json={}))["code"] == 405
    watch = http.get(SECRETS, params={"watch": "true"})
    assert status_of(watch)["reason"] == "MethodNotAllowed"
    bad_body = http.post(
        SECRETS,
        content=b"kind: Secret",
        headers={"Content-Type": "application/yaml"},
    )
    assert status_of(bad_body)["reason"] == "UnsupportedMediaType"
    not_json = http.post(SECRETS, content=b"{nope")
    assert status_of(not_json)["reason"] == "BadRequest"


def test_bearer_token_is_required(kube: KubeEmulator) -> None:
    with httpx.Client(base_url=kube.base_url, trust_env=False) as anonymous:
        assert status_of(anonymous.get("/api/v1/namespaces")) == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }
        assert anonymous.get("/version").json()["gitVersion"] == "v1.37.0"
        assert anonymous.get("/healthz").text == "ok"


def test_discovery(http: httpx.Client) -> None:
    assert http.get("/api").json()["versions"] == ["v1"]
    groups = {g["name"] for g in http.get("/apis").json()["groups"]}
    assert groups == {"apps", "rbac.authorization.k8s.io", "authorization.k8s.io"}
    core = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    assert core["pods/log"]["verbs"] == ["get"]
    assert core["namespaces"]["namespaced"] is False and core["secrets"]["kind"] == "Secret"
    apps = http.get("/apis/apps/v1").json()
    assert apps["groupVersion"] == "apps/v1"
    assert [r["name"] for r in apps["resources"]] == ["deployments", "deployments/status"]


# ------------------------------------------------------------------------ 2. namespaces


def test_namespaced_create_needs_the_namespace(http: httpx.Client) -> None:
    response = http.post("/api/v1/namespaces/nope/secrets", json=pull_secret() | {"metadata": {}})
    assert status_of(response) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'namespaces "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "namespaces"},
        "code": 404,
    }


def test_new_namespace_gets_default_account_and_root_ca(client: Client) -> None:
    created = client.create(Namespace.from_dict({"metadata": {"name": "prod"}}))
    assert created.status.phase == "Active"
    assert created.metadata.labels == {"kubernetes.io/metadata.name": "prod"}
    assert client.get(ServiceAccount, "default", namespace="prod").metadata.name == "default"
    assert "ca.crt" in client.get(ConfigMap, "kube-root-ca.crt", namespace="prod").data


def test_deleting_a_namespace_deletes_its_contents(kube: KubeEmulator, client: Client) -> None:
    client.create(Namespace.from_dict({"metadata": {"name": "prod"}}))
    secret = pull_secret()
    secret["metadata"]["namespace"] = "prod"
    client.create(Secret.from_dict(secret))
    client.delete(Namespace, "prod")
    assert list(client.list(Secret, namespace="prod")) == []
    assert kube.list_objects("ServiceAccount", "prod") == []
    with pytest.raises(ApiError) as error:
        client.get(Namespace, "prod")
    assert error.value.status.message == 'namespaces "prod" not found'


# ----------------------------------------------------------------------------- 3. names

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def test_secret_names_are_dns_subdomains(http: httpx.Client) -> None:
    secret = pull_secret("Bad_Name")
    body = status_of(http.post(SECRETS, json=secret))
    assert body["reason"] == "Invalid" and body["code"] == 422
    cause = f'Invalid value: "Bad_Name": {SUBDOMAIN_MESSAGE}'
    assert body["message"] == f'Secret "Bad_Name" is invalid: metadata.name: {cause}'
    assert body["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": cause, "field": "metadata.name"}
    ]
    long_name = "a" * 254
    body = status_of(http.post(SECRETS, json=pull_secret(long_name)))
    assert "must be no more than 253 characters" in body["message"]
    ok = http.post(SECRETS, json=pull_secret("a.b-c"))
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("kind", "path", "name", "error"),
    [
        ("Namespace", "/api/v1/namespaces", "a.b", "must not contain dots"),
        ("Namespace", "/api/v1/namespaces", "n" * 64, "must be no more than 63 characters"),
        ("Service", "/api/v1/namespaces/default/services", "1abc", "a DNS-1035 label must"),
        ("Service", "/api/v1/namespaces/default/services", "a.b", "a DNS-1035 label must"),
    ],
)
def test_label_names(http: httpx.Client, kind: str, path: str, name: str, error: str) -> None:
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    if kind == "Service":
        body["spec"] = {"ports": [{"port": 80}]}
    status = status_of(http.post(path, json=body))
    assert status["code"] == 422
    assert status["message"].startswith(f'{kind} "{name}" is invalid: ')
    assert f'metadata.name: Invalid value: "{name}": ' in status["message"]
    assert error in status["message"]


def test_other_name_rules(http: httpx.Client, client: Client) -> None:
    assert http.post(SECRETS, json=pull_secret("1abc")).is_success
    role = {"metadata": {"name": "system:vectis"}, "rules": [{"apiGroups": [""],
            "resources": ["secrets"], "verbs": ["get"]}]}  # fmt: skip
    assert client.create(Role.from_dict(role)).metadata.name == "system:vectis"
    missing = status_of(http.post(SECRETS, json={"metadata": {}}))
    assert missing["message"] == (
        'Secret "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    generated = http.post(SECRETS, json={"metadata": {"generateName": "pull-"}}).json()
    assert re.fullmatch("pull-[a-z0-9]{5}", generated["metadata"]["name"])
    bad_label = pull_secret("labelled")
    bad_label["metadata"]["labels"] = {"app": "has space"}
    status = status_of(http.post(SECRETS, json=bad_label))
    assert status["message"].startswith(
        'Secret "labelled" is invalid: metadata.labels: Invalid value: "has space": a valid label'
    )


def test_body_and_url_must_agree(http: httpx.Client) -> None:
    secret = pull_secret()
    secret["metadata"]["namespace"] = "kube-system"
    body = status_of(http.post(SECRETS, json=secret))
    assert (body["code"], body["reason"]) == (400, "BadRequest")
    assert body["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )
    assert http.post(SECRETS, json=pull_secret()).is_success
    body = status_of(http.put(SECRETS + "/other", json=pull_secret()))
    assert (
        body["message"]
        == "the name of the object (pull) does not match the name on the URL (other)"
    )
    wrong_kind = pull_secret() | {"kind": "ConfigMap"}
    assert status_of(http.post(SECRETS, json=wrong_kind))["code"] == 400


# ------------------------------------------------------------------- 4. server fields, rv


def test_server_sets_uid_timestamp_and_increasing_resource_versions(
    kube: KubeEmulator, client: Client
) -> None:
    first = client.create(Secret.from_dict(pull_secret("a")))
    second = client.create(Secret.from_dict(pull_secret("b")))
    assert first.metadata.uid and first.metadata.uid != second.metadata.uid
    assert first.metadata.creationTimestamp is not None
    versions = [int(first.metadata.resourceVersion), int(second.metadata.resourceVersion)]
    patched = client.patch(Secret, "a", {"metadata": {"labels": {"x": "1"}}})
    versions.append(int(patched.metadata.resourceVersion))
    assert versions == sorted(set(versions))
    assert kube.resource_version == versions[-1]
    listing = client.list(Secret)
    assert [s.metadata.name for s in listing] == ["a", "b"]
    assert listing.resourceVersion == str(versions[-1])
    assert first.metadata.generation is None  # as on a real server: Secrets have none


def test_stale_resource_version_conflicts(client: Client, http: httpx.Client) -> None:
    stale = client.create(Secret.from_dict(pull_secret()))
    client.patch(Secret, "pull", {"metadata": {"labels": {"x": "1"}}})
    stale.metadata.labels = {"y": "2"}
    with pytest.raises(ApiError) as error:
        client.replace(stale)
    assert (error.value.status.code, error.value.status.reason) == (409, "Conflict")
    assert error.value.status.message == (
        'Operation cannot be fulfilled on secrets "pull": the object has been modified; please '
        "apply your changes to the latest version and try again"
    )
    old_rv = stale.metadata.resourceVersion
    patch = {"metadata": {"resourceVersion": old_rv, "labels": {"z": "3"}}}
    response = http.patch(
        SECRETS + "/pull",
        json=patch,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert status_of(response)["reason"] == "Conflict"
    other_uid = client.get(Secret, "pull")
    other_uid.metadata.uid = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ApiError) as error:
        client.replace(other_uid)
    assert "Precondition failed: UID in precondition" in error.value.status.message


def test_concurrent_writes_get_distinct_resource_versions(kube: KubeEmulator) -> None:
    versions: list[str] = []

    def writer(worker: int) -> None:
        with kube.lightkube_client() as own_client:
            for i in range(5):
                created = own_client.create(Secret.from_dict(pull_secret(f"s-{worker}-{i}")))
                versions.append(created.metadata.resourceVersion or "")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(versions)) == 30
    assert len(kube.list_objects("Secret", "default")) == 30


def test_put_replaces_the_whole_object(client: Client) -> None:
    secret = pull_secret()
    secret["metadata"]["labels"] = {"keep": "no"}
    secret["metadata"]["annotations"] = {"note": "x"}
    current = client.create(Secret.from_dict(secret))
    current.metadata.labels = None
    replaced = client.replace(current)
    assert replaced.metadata.labels is None and replaced.metadata.annotations == {"note": "x"}
    assert replaced.metadata.uid == current.metadata.uid


def test_noop_update_keeps_the_resource_version(client: Client) -> None:
    created = client.create(Secret.from_dict(pull_secret()))
    again = client.replace(created)
    assert again.metadata.resourceVersion == created.metadata.resourceVersion


def test_generation_follows_spec_changes(client: Client) -> None:
    created = client.create(Deployment.from_dict(deployment()))
    assert created.metadata.generation == 1
    labelled = client.patch(Deployment, "web", {"metadata": {"labels": {"team": "a"}}})
    assert labelled.metadata.generation == 1
    scaled = client.patch(Deployment, "web", {"spec": {"replicas": 3}})
    assert scaled.metadata.generation == 2


def test_create_with_resource_version_and_put_of_missing_object(http: httpx.Client) -> None:
    secret = pull_secret()
    secret["metadata"]["resourceVersion"] = "5"
    body = status_of(http.post(SECRETS, json=secret))
    assert body["code"] == 500
    assert body["message"] == "resourceVersion should not be set on objects to be created"
    missing = status_of(http.put(SECRETS + "/pull", json=pull_secret()))
    assert missing["message"] == 'secrets "pull" not found'


def test_status_is_written_through_the_status_subresource(
    client: Client, http: httpx.Client
) -> None:
    client.create(Deployment.from_dict(deployment()))
    current = http.get(DEPLOYMENTS + "/web").json()
    current["status"] = {"readyReplicas": 2}
    assert http.put(DEPLOYMENTS + "/web", json=current).json()["status"] == {}
    current = http.get(DEPLOYMENTS + "/web").json()
    current["status"] = {"readyReplicas": 2}
    url = DEPLOYMENTS + "/web/status"
    assert http.put(url, json=current).json()["status"] == {"readyReplicas": 2}
    assert client.get(Deployment, "web").status.readyReplicas == 2


# --------------------------------------------------------------------------- 5. secrets


def test_dockerconfigjson_key_is_required(http: httpx.Client) -> None:
    secret = pull_secret()
    secret["data"] = {"other": b64("{}")}
    response = http.post(SECRETS, json=secret)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Secret "pull" is invalid: data[.dockerconfigjson]: Required value',
        "reason": "Invalid",
        "details": {
            "name": "pull",
            "kind": "Secret",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "data[.dockerconfigjson]",
                }
            ],
        },
        "code": 422,
    }


@pytest.mark.parametrize("payload", ["not json", "[]", '"text"', ""])
def test_dockerconfigjson_must_hold_a_json_object(http: httpx.Client, payload: str) -> None:
    secret = pull_secret()
    secret["data"][".dockerconfigjson"] = b64(payload)
    body = status_of(http.post(SECRETS, json=secret))
    assert body["code"] == 422
    assert body["message"].startswith(
        'Secret "pull" is invalid: data[.dockerconfigjson]: Invalid value: '
        '"<secret contents redacted>": '
    )


def test_string_data_is_merged_into_data(client: Client) -> None:
    secret = pull_secret()
    config = base64.b64decode(secret["data"].pop(".dockerconfigjson")).decode()
    secret["data"]["keep"] = b64("old")
    secret["stringData"] = {".dockerconfigjson": config, "keep": "new"}
    created = client.create(Secret.from_dict(secret))
    assert created.stringData is None
    assert created.data == {".dockerconfigjson": b64(config), "keep": b64("new")}


def test_secret_type_is_immutable_and_defaults_to_opaque(client: Client) -> None:
    created = client.create(Secret.from_dict(pull_secret()))
    created.type = None  # PUT without a type: defaulted to Opaque, so the type changes
    with pytest.raises(ApiError) as error:
        client.replace(created)
    assert error.value.status.message == (
        'Secret "pull" is invalid: type: Invalid value: "Opaque": field is immutable'
    )
    plain = client.create(Secret.from_dict({"metadata": {"name": "plain"}}))
    assert plain.type == "Opaque"


def test_data_values_must_be_base64(http: httpx.Client) -> None:
    secret = pull_secret()
    secret["data"]["extra"] = "not*base64"
    body = status_of(http.post(SECRETS, json=secret))
    assert (body["code"], body["reason"]) == (400, "BadRequest")
    assert body["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )
    secret["data"]["extra"] = 42
    assert status_of(http.post(SECRETS, json=secret))["code"] == 400


def test_secret_size_keys_and_immutability(client: Client, http: httpx.Client) -> None:
    big = {"metadata": {"name": "big"}, "data": {"blob": b64("x" * (1024 * 1024 + 1))}}
    body = status_of(http.post(SECRETS, json=big))
    assert (
        body["message"]
        == 'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes'
    )
    bad_key = {"metadata": {"name": "keys"}, "data": {"bad key": b64("x")}}
    body = status_of(http.post(SECRETS, json=bad_key))
    assert body["message"].startswith('Secret "keys" is invalid: data[bad key]: Invalid value')
    frozen = client.create(
        Secret.from_dict(
            {"metadata": {"name": "frozen"}, "immutable": True, "data": {"a": b64("1")}}
        )
    )
    frozen.data = {"a": b64("2")}
    with pytest.raises(ApiError) as error:
        client.replace(frozen)
    assert error.value.status.message == (
        'Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    )


# ----------------------------------------------------------------------- 6. deployments


def test_deployment_selector_is_required(http: httpx.Client) -> None:
    manifest = deployment()
    del manifest["spec"]["selector"]
    body = status_of(http.post(DEPLOYMENTS, json=manifest))
    assert body["message"] == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`]"
    )
    assert body["details"]["group"] == "apps" and body["details"]["kind"] == "Deployment"
    assert [c["field"] for c in body["details"]["causes"]] == [
        "spec.selector",
        "spec.template.metadata.labels",
    ]


def test_deployment_selector_must_match_and_stay(client: Client, http: httpx.Client) -> None:
    manifest = deployment(selector={"matchLabels": {"app": "other"}})
    body = status_of(http.post(DEPLOYMENTS, json=manifest))
    assert body["details"]["causes"][0]["field"] == "spec.template.metadata.labels"
    empty = deployment(selector={})
    body = status_of(http.post(DEPLOYMENTS, json=empty))
    assert "empty selector is invalid for deployment" in body["message"]
    client.create(Deployment.from_dict(deployment()))
    with pytest.raises(ApiError) as error:
        client.patch(
            Deployment,
            "web",
            {"spec": {"selector": {"matchLabels": {"app": "web", "v": "2"}},
                      "template": {"metadata": {"labels": {"app": "web", "v": "2"}}}}},
        )  # fmt: skip
    assert error.value.status.message.endswith("field is immutable")


def test_deployment_needs_containers_with_names_and_images(http: httpx.Client) -> None:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"] = []
    body = status_of(http.post(DEPLOYMENTS, json=manifest))
    assert body["message"] == (
        'Deployment.apps "web" is invalid: spec.template.spec.containers: Required value'
    )
    manifest["spec"]["template"]["spec"]["containers"] = [
        {"name": "a"},
        {"name": "a", "image": "x"},
    ]
    manifest["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    body = status_of(http.post(DEPLOYMENTS, json=manifest))
    assert [(c["field"], c["reason"]) for c in body["details"]["causes"]] == [
        ("spec.template.spec.containers[0].image", "FieldValueRequired"),
        ("spec.template.spec.containers[1].name", "FieldValueDuplicate"),
        ("spec.template.spec.restartPolicy", "FieldValueNotSupported"),
    ]


def test_server_defaults(client: Client) -> None:
    manifest = deployment()
    del manifest["spec"]["replicas"]
    sidecar = {"name": "sidecar", "image": "busybox"}
    manifest["spec"]["template"]["spec"]["containers"].append(sidecar)
    created = client.create(Deployment.from_dict(manifest))
    assert created.spec.replicas == 1
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.strategy.rollingUpdate.maxSurge == "25%"
    app, side = created.spec.template.spec.containers
    assert (app.imagePullPolicy, side.imagePullPolicy) == ("IfNotPresent", "Always")
    assert app.ports[0].protocol == "TCP"
    assert created.spec.template.spec.restartPolicy == "Always"
    ports = [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": ports}}
    svc = client.create(Service.from_dict(service))
    assert svc.spec.type == "ClusterIP" and svc.spec.clusterIP.startswith("10.96.")
    assert svc.spec.ports[0].targetPort == 80


def test_complete_rollout_creates_ready_pods(kube: KubeEmulator, client: Client) -> None:
    client.create(Deployment.from_dict(deployment()))
    kube.complete_rollout("default", "web")
    dep = client.get(Deployment, "web")
    assert (dep.status.readyReplicas, dep.status.availableReplicas) == (2, 2)
    assert dep.status.observedGeneration == 1
    assert {c.type: c.status for c in dep.status.conditions} == {
        "Available": "True",
        "Progressing": "True",
    }
    pods = list(client.list(Pod, labels={"app": "web"}))
    assert len(pods) == 2
    assert all(p.status.phase == "Running" and p.status.podIP for p in pods)
    assert all(p.status.containerStatuses[0].ready for p in pods)
    assert {p.metadata.ownerReferences[0].kind for p in pods} == {"ReplicaSet"}
    assert len({p.metadata.labels["pod-template-hash"] for p in pods}) == 1
    assert pods[0].spec.imagePullSecrets[0].name == "pull"


# ------------------------------------------------------------------------- 7. selectors


@pytest.fixture
def labelled(kube: KubeEmulator) -> None:
    for name, labels in {
        "a": {"tier": "web", "env": "prod"},
        "b": {"tier": "db", "env": "prod"},
        "c": {"tier": "web"},
        "d": {},
    }.items():
        kube.seed(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": labels}}
        )


@pytest.mark.usefixtures("labelled")
@pytest.mark.parametrize(
    ("selector", "names"),
    [
        ("tier=web", ["a", "c"]),
        ("tier==web", ["a", "c"]),
        ("tier!=web", ["b", "d"]),
        ("tier in (web, db)", ["a", "b", "c"]),
        ("tier notin (web)", ["b", "d"]),
        ("env", ["a", "b"]),
        ("!env", ["c", "d"]),
        ("tier=web,env", ["a"]),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_label_selector_operators(http: httpx.Client, selector: str, names: list[str]) -> None:
    response = http.get(SECRETS, params={"labelSelector": selector})
    assert [item["metadata"]["name"] for item in response.json()["items"]] == names


@pytest.mark.usefixtures("labelled")
def test_label_selectors_through_lightkube(client: Client, http: httpx.Client) -> None:
    def names(**labels: Any) -> list[str]:
        return [s.metadata.name for s in client.list(Secret, labels=labels)]

    assert names(tier=operators.in_(["db", "web"]), env=operators.exists()) == ["a", "b"]
    assert names(tier=operators.not_in(["web"])) == ["b", "d"]
    assert names(env=operators.not_exists()) == ["c", "d"]
    assert names(tier=operators.not_equal("db")) == ["a", "c", "d"]
    bad = http.get(SECRETS, params={"labelSelector": "tier in web"})
    assert status_of(bad)["code"] == 400


def test_field_selectors(kube: KubeEmulator, client: Client, http: httpx.Client) -> None:
    kube.seed(pull_secret("pull"))
    kube.seed({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "plain"}})
    by_type = client.list(Secret, fields={"type": "kubernetes.io/dockerconfigjson"})
    assert [s.metadata.name for s in by_type] == ["pull"]
    assert [s.metadata.name for s in client.list(Secret, fields={"metadata.name": "plain"})] == [
        "plain"
    ]
    everywhere = client.list(
        ServiceAccount, namespace="*", fields={"metadata.namespace": "kube-system"}
    )
    assert [(a.metadata.namespace, a.metadata.name) for a in everywhere] == [
        ("kube-system", "default")
    ]
    ref = {"kind": "Pod", "name": "web-1", "namespace": "default"}
    kube.add_event(ref, "Pulling", 'Pulling image "x"')
    kube.add_event({"kind": "Pod", "name": "web-2", "namespace": "default"}, "Started", "ok")
    events = client.list(
        Event, fields={"involvedObject.name": "web-1", "involvedObject.kind": "Pod"}
    )
    assert [e.reason for e in events] == ["Pulling"]
    warnings = client.list(Event, fields={"type": operators.not_equal("Warning")})
    assert len(list(warnings)) == 2
    for selector in ("spec.foo=1", "involvedObject.name=x"):
        body = status_of(http.get("/api/v1/secrets", params={"fieldSelector": selector}))
        assert (body["code"], body["reason"]) == (400, "BadRequest")
        assert body["message"] == f"field label not supported: {selector.split('=')[0]}"


def test_list_bodies_and_paging(kube: KubeEmulator, client: Client, http: httpx.Client) -> None:
    for i in range(5):
        kube.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}})
    body = http.get("/api/v1/namespaces/default/configmaps").json()
    assert (body["kind"], body["apiVersion"]) == ("ConfigMapList", "v1")
    assert body["metadata"] == {"resourceVersion": str(kube.resource_version)}
    assert "kind" not in body["items"][0] and "apiVersion" not in body["items"][0]
    page = http.get("/api/v1/namespaces/default/configmaps", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["metadata"]["remainingItemCount"] == 4
    assert len(list(client.list(ConfigMap, chunk_size=2))) == 6  # with kube-root-ca.crt
    deployments = http.get("/apis/apps/v1/deployments").json()
    assert (deployments["kind"], deployments["apiVersion"]) == ("DeploymentList", "apps/v1")


# ---------------------------------------------------------------------------- 8. patches


@pytest.fixture
def two_containers(client: Client) -> None:
    manifest = deployment()
    spec = manifest["spec"]["template"]["spec"]
    spec["containers"][0]["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    spec["containers"].append({"name": "sidecar", "image": "sidecar:1"})
    spec["volumes"] = [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    client.create(Deployment.from_dict(manifest))


@pytest.mark.usefixtures("two_containers")
def test_strategic_merge_patch_uses_merge_keys(client: Client) -> None:
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "registry.example.com/app:2.0",
                        "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                        "ports": [{"containerPort": 9090}]}],
        "imagePullSecrets": [{"name": "second"}],
        "volumes": [{"name": "data", "$patch": "delete"}],
    }}}}  # fmt: skip
    patched = client.patch(Deployment, "web", patch)  # lightkube's default: strategic
    spec = patched.spec.template.spec
    app, sidecar = spec.containers
    assert (app.image, sidecar.image) == ("registry.example.com/app:2.0", "sidecar:1")
    assert [(e.name, e.value) for e in app.env] == [("A", "1"), ("B", "3"), ("C", "4")]
    assert [p.containerPort for p in app.ports] == [8080, 9090]
    assert [s.name for s in spec.imagePullSecrets] == ["pull", "second"]
    assert [v.name for v in spec.volumes] == ["tmp"]
    assert patched.metadata.generation == 2


@pytest.mark.usefixtures("two_containers")
def test_merge_and_json_patches(client: Client) -> None:
    containers = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}}}
    merged = client.patch(Deployment, "web", containers, patch_type=PatchType.MERGE)
    assert [c.name for c in merged.spec.template.spec.containers] == ["only"]  # lists replaced
    unlabelled = client.patch(
        Deployment, "web", {"metadata": {"labels": {"app": None}}}, patch_type=PatchType.MERGE
    )
    assert unlabelled.metadata.labels is None
    ops = [{"op": "add", "path": "/metadata/labels", "value": {"x": "1"}},
           {"op": "replace", "path": "/spec/replicas", "value": 5}]  # fmt: skip
    patched = client.patch(Deployment, "web", ops, patch_type=PatchType.JSON)
    assert (patched.metadata.labels, patched.spec.replicas) == ({"x": "1"}, 5)
    with pytest.raises(ApiError) as error:
        client.patch(
            Deployment,
            "web",
            [{"op": "test", "path": "/spec/replicas", "value": 1}],
            patch_type=PatchType.JSON,
        )
    assert (error.value.status.code, error.value.status.reason) == (422, "Invalid")


def test_service_ports_merge_by_port(client: Client) -> None:
    ports = [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": ports}}
    created = client.create(Service.from_dict(service))
    patch = {"spec": {"ports": [{"port": 443, "name": "https", "targetPort": 8443}]}}
    patched = client.patch(Service, "web", patch)
    assert [(p.port, p.targetPort) for p in patched.spec.ports] == [(80, 80), (443, 8443)]
    assert patched.spec.clusterIP == created.spec.clusterIP
    with pytest.raises(ApiError) as error:
        client.patch(Service, "web", {"spec": {"clusterIP": "10.0.0.1"}})
    assert "may not change once set" in error.value.status.message


def test_unknown_patch_types_and_missing_objects(client: Client, http: httpx.Client) -> None:
    client.create(Secret.from_dict(pull_secret()))
    url = SECRETS + "/pull"
    for content_type in ("application/json", "text/plain", "application/apply-patch+yaml"):
        response = http.patch(url, content=b"{}", headers={"Content-Type": content_type})
        body = status_of(response)
        assert (body["code"], body["reason"]) == (415, "UnsupportedMediaType")
        assert body["message"].startswith("the body of the request was in an unknown format")
    assert "server-side apply is not emulated" in body["message"]
    with pytest.raises(ApiError) as error:
        client.patch(Secret, "nope", {"metadata": {"labels": {"a": "b"}}})
    assert error.value.status.code == 404


def test_dry_run_changes_nothing(kube: KubeEmulator, client: Client) -> None:
    rv = kube.resource_version
    created = client.create(Secret.from_dict(pull_secret()), dry_run=True)
    assert created.metadata.uid and created.metadata.name == "pull"
    assert kube.get_object("Secret", "pull", "default") is None
    assert kube.resource_version == rv
    assert kube.writes() == []
    with pytest.raises(ApiError):
        client.create(Secret.from_dict(pull_secret("Bad_Name")), dry_run=True)  # still validated


# ----------------------------------------------------------------------- 9. pods and logs


@pytest.fixture
def pod(kube: KubeEmulator, client: Client) -> Pod:
    client.create(Deployment.from_dict(deployment(replicas=1)))
    name = kube.create_pods_for("default", "web")[0]["metadata"]["name"]
    return client.get(Pod, name)


def test_pod_logs(kube: KubeEmulator, client: Client, http: httpx.Client, pod: Pod) -> None:
    name = pod.metadata.name
    kube.set_pod_log("default", name, "one\ntwo\nthree\n")
    assert list(client.log(name)) == ["one\n", "two\n", "three\n"]
    assert list(client.log(name, tail_lines=2)) == ["two\n", "three\n"]
    response = http.get(f"/api/v1/namespaces/default/pods/{name}/log", params={"tailLines": 1})
    assert (response.status_code, response.headers["content-type"]) == (200, "text/plain")
    assert response.text == "three\n"
    body = status_of(http.get("/api/v1/namespaces/default/pods/nope/log"))
    assert body["message"] == 'pods "nope" not found'
    bad = http.get(f"/api/v1/namespaces/default/pods/{name}/log", params={"container": "x"})
    assert status_of(bad)["message"] == f"container x is not valid for pod {name}"


def test_pull_failures_as_the_kubelet_reports_them(
    kube: KubeEmulator, client: Client, http: httpx.Client, pod: Pod
) -> None:
    name, image = pod.metadata.name, "registry.example.com/app:1.0"
    kube.image_pull_failure("default", name, reason="ImagePullBackOff", error="manifest unknown")
    waiting = client.get(Pod, name).status.containerStatuses[0].state.waiting
    assert waiting.reason == "ImagePullBackOff"
    assert waiting.message == f'Back-off pulling image "{image}": ErrImagePull: manifest unknown'
    events = client.list(Event, fields={"involvedObject.name": name})
    assert sorted((e.type, e.reason, e.message) for e in events) == sorted([
        ("Normal", "Pulling", f'Pulling image "{image}"'),
        ("Warning", "Failed", f'Failed to pull image "{image}": manifest unknown'),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", f'Back-off pulling image "{image}"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ])  # fmt: skip
    assert all(e.involvedObject.fieldPath == "spec.containers{app}" for e in events)
    log = status_of(http.get(f"/api/v1/namespaces/default/pods/{name}/log"))
    assert log["message"] == (
        f'container "app" in pod "{name}" is waiting to start: trying and failing to pull image'
    )
    kube.set_pod_status("default", name, phase="Pending", waiting=("ErrImagePull", "x"))
    log = status_of(http.get(f"/api/v1/namespaces/default/pods/{name}/log"))
    assert log["message"].endswith("is waiting to start: image can't be pulled")


def test_set_pod_status_fields(kube: KubeEmulator, client: Client, pod: Pod) -> None:
    name = pod.metadata.name
    kube.set_pod_status(
        "default", name, phase="Running", ready=False, pod_ip="10.1.2.3", node_name="node-7",
        start_time="2026-01-02T03:04:05Z", restart_count=3,
    )  # fmt: skip
    current = client.get(Pod, name)
    assert (current.status.phase, current.status.podIP, current.spec.nodeName) == (
        "Running",
        "10.1.2.3",
        "node-7",
    )
    assert current.status.startTime.year == 2026
    status = current.status.containerStatuses[0]
    assert (status.ready, status.restartCount, status.state.running is not None) == (False, 3, True)
    assert {c.type: c.status for c in current.status.conditions}["Ready"] == "False"
    assert client.list(Pod, fields={"status.phase": "Running", "spec.nodeName": "node-7"})
    stalled = kube.stall_rollout("default", "web", deadline_exceeded=True)
    assert stalled["status"]["conditions"][1]["reason"] == "ProgressDeadlineExceeded"


def test_service_account_admission(kube: KubeEmulator, client: Client) -> None:
    client.patch(ServiceAccount, "default", {"imagePullSecrets": [{"name": "from-account"}]})
    bare = {"metadata": {"name": "bare"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    assert client.create(Pod.from_dict(bare)).spec.imagePullSecrets[0].name == "from-account"
    own = {"metadata": {"name": "own"}, "spec": {"containers": [{"name": "c", "image": "x"}],
           "imagePullSecrets": [{"name": "mine"}]}}  # fmt: skip
    assert [s.name for s in client.create(Pod.from_dict(own)).spec.imagePullSecrets] == ["mine"]
    ghost = {"metadata": {"name": "ghost"}, "spec": {"serviceAccountName": "ghost",
             "containers": [{"name": "c", "image": "x"}]}}  # fmt: skip
    with pytest.raises(ApiError) as error:
        client.create(Pod.from_dict(ghost))
    assert error.value.status.code == 403
    assert error.value.status.message == (
        'pods "ghost" is forbidden: error looking up service account default/ghost: '
        'serviceaccount "ghost" not found'
    )


def test_every_kind_decodes_into_lightkube_models(kube: KubeEmulator, client: Client) -> None:
    manifests = [
        (ConfigMap, {"metadata": {"name": "cm"}, "data": {"k": "v"}}),
        (ServiceAccount, {"metadata": {"name": "sa"}, "imagePullSecrets": [{"name": "pull"}]}),
        (PersistentVolumeClaim, {"metadata": {"name": "pvc"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        (Role, {"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                                      "verbs": ["get", "list"]}]}),
        (RoleBinding, {"metadata": {"name": "rb"}, "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]}),
        (Deployment, deployment()),
        (Secret, pull_secret()),
    ]  # fmt: skip
    for resource, manifest in manifests:
        created = client.create(resource.from_dict(manifest))
        assert client.get(resource, created.metadata.name).metadata.uid == created.metadata.uid
        assert [o.metadata.name for o in client.list(resource)]
    kube.complete_rollout("default", "web")
    kube.add_event(kube.get_object("Deployment", "web", "default") or {}, "ScalingReplicaSet", "x")
    assert list(client.list(Pod)) and list(client.list(Event))
    assert [n.metadata.name for n in client.list(Namespace)] == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ]
    binding = client.get(RoleBinding, "rb")
    binding.roleRef.name = "other"
    with pytest.raises(ApiError) as error:
        client.replace(binding)
    assert error.value.status.message.endswith("cannot change roleRef")


# ------------------------------------------------------------- access reviews and RBAC


def test_self_subject_access_reviews_and_denials(kube: KubeEmulator, client: Client) -> None:
    def allowed(verb: str, resource: str, namespace: str = "default") -> bool:
        review = SelfSubjectAccessReview.from_dict({"spec": {"resourceAttributes": {
            "verb": verb, "resource": resource, "namespace": namespace}}})  # fmt: skip
        return bool(client.create(review).status.allowed)

    assert allowed("create", "secrets")
    kube.deny("create", "secrets", namespace="prod")
    kube.deny("get", "secrets")
    assert allowed("create", "secrets") and not allowed("create", "secrets", "prod")
    kube.seed(pull_secret())
    with pytest.raises(ApiError) as error:
        client.get(Secret, "pull")
    assert (error.value.status.code, error.value.status.reason) == (403, "Forbidden")
    assert error.value.status.message == (
        'secrets "pull" is forbidden: User "system:serviceaccount:vectis:vectis-admin" cannot get '
        'resource "secrets" in API group "" in the namespace "default"'
    )
    assert [s.metadata.name for s in client.list(Secret)] == ["pull"]  # list is not denied
    assert kube.writes() == []  # access reviews are not writes
    kube.reset_faults()
    assert client.get(Secret, "pull").metadata.name == "pull"


# ---------------------------------------------------------------------- 10. fault injection


def test_fail_next_then_recover(kube: KubeEmulator, client: Client) -> None:
    kube.fail_next(2, status=503)
    for _ in range(2):
        with pytest.raises(ApiError) as error:
            client.get(Namespace, "default")
        assert (error.value.status.code, error.value.status.reason) == (503, "ServiceUnavailable")
    assert client.get(Namespace, "default").metadata.name == "default"
    assert [e.status for e in kube.journal] == [503, 503, 200]


def test_fail_next_filters_and_after_commit(kube: KubeEmulator, client: Client) -> None:
    kube.fail_next(1, status=500, method="POST", after_commit=True)
    assert client.get(Namespace, "default")  # a GET is not affected
    with pytest.raises(ApiError) as error:
        client.create(Secret.from_dict(pull_secret()))
    assert error.value.status.code == 500
    assert kube.get_object("Secret", "pull", "default") is not None  # the write happened
    with pytest.raises(ApiError) as error:
        client.create(Secret.from_dict(pull_secret()))  # a blind retry sees AlreadyExists
    assert error.value.status.reason == "AlreadyExists"
    kube.fail_next(1, status=429, path="/secrets")
    with pytest.raises(ApiError) as error:
        client.get(Secret, "pull")
    assert error.value.response.headers["Retry-After"] == "1"


def test_latency(kube: KubeEmulator, client: Client) -> None:
    kube.latency = 0.2
    started = time.monotonic()
    client.get(Namespace, "default")
    assert time.monotonic() - started >= 0.2


def test_timeout_mode_and_hang_next(kube: KubeEmulator) -> None:
    with kube.lightkube_client(timeout=0.3) as client:
        kube.timeout_mode = True
        started = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            client.get(Namespace, "default")
        assert 0.3 <= time.monotonic() - started < 2
        kube.timeout_mode = False
        kube.hang_next(1)
        with pytest.raises(httpx2.ReadTimeout):
            client.get(Namespace, "default")
        assert client.get(Namespace, "default").metadata.name == "default"
    assert [e.status for e in kube.journal] == [0, 0, 200]


def test_refuse_and_resume(kube: KubeEmulator, client: Client) -> None:
    assert client.get(Namespace, "default")  # leaves a keep-alive connection open
    port = kube.port
    kube.refuse()
    with pytest.raises(httpx2.ConnectError):
        client.get(Namespace, "default")
    kube.resume()
    assert kube.port == port
    assert client.get(Namespace, "default").metadata.name == "default"


def test_stop_ends_hanging_requests_quickly() -> None:
    kube = KubeEmulator().start()
    kube.timeout_mode = True
    outcome: list[str] = []

    def call() -> None:
        try:
            with httpx.Client(base_url=kube.base_url, trust_env=False, timeout=10) as c:
                c.get("/api/v1/namespaces", headers=kube.auth_headers)
        except httpx.HTTPError as e:
            outcome.append(type(e).__name__)

    caller = threading.Thread(target=call)
    caller.start()
    while not kube.journal:
        time.sleep(0.01)
    started = time.monotonic()
    kube.stop()
    caller.join(5)
    assert time.monotonic() - started < 1.5
    assert outcome == ["RemoteProtocolError"]
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as late:
        late.get(kube.base_url + "/version")
    assert kube.internal_errors == []


# --------------------------------------------------------------------------- journal


def test_journal_records_method_path_and_content_type(kube: KubeEmulator, client: Client) -> None:
    client.get(Namespace, "default")
    list(client.list(Secret))
    assert kube.writes() == []  # "zero write calls"
    client.create(Secret.from_dict(pull_secret()))
    client.patch(Secret, "pull", {"metadata": {"labels": {"a": "b"}}})
    client.patch(Secret, "pull", {"metadata": {"labels": {"a": "c"}}}, patch_type=PatchType.MERGE)
    client.delete(Secret, "pull")
    writes = [(e.method, e.path, e.content_type, e.status) for e in kube.writes()]
    pull = SECRETS + "/pull"
    assert writes == [
        ("POST", SECRETS, "application/json", 201),
        ("PATCH", pull, "application/strategic-merge-patch+json", 200),
        ("PATCH", pull, "application/merge-patch+json", 200),
        ("DELETE", pull, None, 200),
    ]
    assert kube.writes()[0].body["metadata"]["name"] == "pull"
    assert kube.journal[0].method == "GET" and kube.journal[1].query == {}
    kube.clear_journal()
    assert kube.journal == []


# --------------------------------------------------------- seeding and other client forms


def test_seed_and_control_errors(kube: KubeEmulator, client: Client) -> None:
    with pytest.raises(EmulatorError, match='namespaces "nope" not found'):
        kube.seed(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "nope"}}
        )
    kube.seed(Secret.from_dict(pull_secret()))  # a lightkube object works too
    metadata = {"name": "old", "uid": "fixed-uid", "creationTimestamp": "2020-01-01T00:00:00Z"}
    seeded = kube.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata})
    assert seeded["metadata"]["uid"] == "fixed-uid"
    assert client.get(ConfigMap, "old").metadata.creationTimestamp.year == 2020
    assert [e.method for e in kube.journal] == ["GET"]  # seeds are not requests
    with pytest.raises(EmulatorError, match='pods "nope" not found'):
        kube.set_pod_status("default", "nope", phase="Running")
    with pytest.raises(ValueError, match="does not serve"):
        kube.get_object("CronJob", "x")


def test_async_client(kube: KubeEmulator) -> None:
    async def scenario() -> list[str]:
        client = kube.lightkube_async_client()
        try:
            await client.create(Secret.from_dict(pull_secret()))
            return [s.metadata.name async for s in client.list(Secret)]
        finally:
            await client.close()

    assert asyncio.run(scenario()) == ["pull"]


def test_kubeconfig_file(kube: KubeEmulator, tmp_path: Any) -> None:
    from lightkube import KubeConfig

    path = kube.write_kubeconfig(tmp_path / "config", namespace="kube-system")
    with Client(KubeConfig.from_file(path), trust_env=False) as client:
        assert client.namespace == "kube-system"
        assert [a.metadata.name for a in client.list(ServiceAccount)] == ["default"]


# ------------------------------------------------------------------- kubernetes-validate


def test_manifests_pass_kubernetes_validate_and_the_emulator(client: Client) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for manifest in (pull_secret(), deployment()):
        kubernetes_validate.validate(manifest, "1.37", strict=True)
    client.create(Secret.from_dict(pull_secret()))
    client.create(Deployment.from_dict(deployment()))
    typo = deployment()
    typo["spec"]["template"]["spec"]["containers"][0]["imagePulPolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError) as error:
        kubernetes_validate.validate(typo, "1.37", strict=True)
    assert "imagePulPolicy" in error.value.message
    assert list(error.value.path) == ["spec", "template", "spec", "containers", 0]
