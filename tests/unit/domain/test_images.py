"""Image references parse and normalise as distribution/reference does (REGISTRY-REFERENCE A1)."""

from __future__ import annotations

import dataclasses

import pytest

from vectis_admin.domain.images import (
    ImageReference,
    parse_image_reference,
    validate_digest,
    validate_domain,
    validate_repository_path,
    validate_tag,
)
from vectis_admin.errors import InvalidInput

SHA256 = "sha256:" + "0123456789abcdef" * 4
SHA512 = "sha512:" + "0123456789abcdef" * 8


def rules(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(issue.field, issue.rule) for issue in exc.value.issues]


@pytest.mark.parametrize(
    ("text", "canonical", "familiar"),
    [
        ("ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"),
        ("ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04"),
        ("library/ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"),
        ("docker.io/ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"),
        ("index.docker.io/ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"),
        ("index.docker.io/org/app:1", "docker.io/org/app:1", "org/app:1"),
        ("org/app", "docker.io/org/app:latest", "org/app:latest"),
        ("a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest"),
        ("library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
        ("ghcr.io/org/app:v1.2.3", "ghcr.io/org/app:v1.2.3", "ghcr.io/org/app:v1.2.3"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"),
        ("127.0.0.1:5000/app:1", "127.0.0.1:5000/app:1", "127.0.0.1:5000/app:1"),
        ("[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app:1"),
        (
            "[2001:db8::1]/team/app",
            "[2001:db8::1]/team/app:latest",
            "[2001:db8::1]/team/app:latest",
        ),
        ("reg.example.com:5000/t/s/app:1.0", "reg.example.com:5000/t/s/app:1.0", None),
        ("Registry/app", "Registry/app:latest", "Registry/app:latest"),
        ("host.example/a__b/c-d--e/f.g_h", "host.example/a__b/c-d--e/f.g_h:latest", None),
        ("  nginx:1.25  ", "docker.io/library/nginx:1.25", "nginx:1.25"),
        ("nginx@" + SHA256, "docker.io/library/nginx@" + SHA256, "nginx@" + SHA256),
        ("nginx:1.25@" + SHA256, "docker.io/library/nginx@" + SHA256, "nginx@" + SHA256),
        ("q.io/app@" + SHA512, "q.io/app@" + SHA512, "q.io/app@" + SHA512),
        ("example.com/" + "a" * 64, "example.com/" + "a" * 64 + ":latest", None),
    ],
)
def test_parses_and_normalises(text: str, canonical: str, familiar: str | None) -> None:
    ref = parse_image_reference(text)
    assert str(ref) == canonical
    assert ref.familiar == (familiar if familiar is not None else canonical)


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", "latest", None),
        ("Foo/bar", "Foo", "bar", "latest", None),  # uppercase first component: a host
        ("localhost/app:x", "localhost", "app", "x", None),
        ("[::1]:5000/a/b", "[::1]:5000", "a/b", "latest", None),
        ("nginx@" + SHA256, "docker.io", "library/nginx", None, SHA256),
        # The tag is kept for display although the digest decides what is pulled.
        ("nginx:1.25@" + SHA256, "docker.io", "library/nginx", "1.25", SHA256),
        # Without a '/' a colon is a tag, never a port (distribution's rule).
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),
    ],
)
def test_parts(text: str, domain: str, path: str, tag: str | None, digest: str | None) -> None:
    ref = parse_image_reference(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert ref.repository == f"{domain}/{path}"


def test_tag_of_128_characters_is_accepted() -> None:
    tag = "t" * 128
    assert parse_image_reference("app:" + tag).tag == tag


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("ngi nx", "must not contain spaces"),
        ("nginx:1\tx", "must not contain spaces"),
        ("a" * 64, "bare 64-character hexadecimal"),
        ("Nginx", "repository path must be lowercase"),
        ("example.com/Org/app", "repository path must be lowercase"),
        ("example.com//app", "repository path must be path components"),
        ("example.com/app/", "repository path must be path components"),
        ("example.com/a___b", "repository path must be path components"),
        ("example.com/-a", "repository path must be path components"),
        ("example.com/" + "a" * 256, "repository path must be at most 255"),
        ("example.com/", "repository path must not be empty"),
        ("docker.io/", "repository path must be path components"),
        ("nginx:", "tag must be 1 to 128"),
        ("nginx:" + "a" * 129, "tag must be 1 to 128"),
        ("nginx:.hidden", "tag must be 1 to 128"),
        ("nginx:-x", "tag must be 1 to 128"),
        ("nginx@", "digest must be"),
        ("nginx@sha256:abc", "digest must be"),
        ("nginx@sha256:" + "A" * 64, "digest must be"),
        ("nginx@md5:" + "a" * 32, "digest must be"),
        ("nginx@" + SHA256 + "@" + SHA256, "digest must be"),
        ("host:0/app", "registry host must be"),
        ("host:65536/app", "registry host must be"),
        ("host:/app", "registry host must be"),
        ("[::1/app", "registry host must be"),
        ("[::g]/app", "registry host must be"),
        ("[fe80::1%eth0]:5000/app", "registry host must be"),
        ("-bad.example.com/app", "registry host must be"),
        ("a:b:c/app", "registry host must be"),
    ],
)
def test_rejects(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_image_reference(text)
    assert all(field == "image" for field, _ in rules(exc))
    assert any(fragment in rule for _, rule in rules(exc)), rules(exc)


def test_path_of_255_characters_is_accepted() -> None:
    assert parse_image_reference("example.com/" + "a" * 255).path == "a" * 255


def test_collects_every_issue_under_the_given_field() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_image_reference("example.com/Org:.bad", field="spec.image")
    assert [f for f, _ in rules(exc)] == ["spec.image", "spec.image"]
    assert "repository path" in exc.value.issues[0].rule
    assert "tag" in exc.value.issues[1].rule


def test_reference_validates_itself_and_is_frozen() -> None:
    ref = ImageReference(domain="docker.io", path="library/nginx")
    assert str(ref) == "docker.io/library/nginx"
    assert ref.familiar == "nginx"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]
    with pytest.raises(InvalidInput):
        ImageReference(domain="", path="app")
    with pytest.raises(InvalidInput):
        ImageReference(domain="docker.io", path="App", tag="latest")


@pytest.mark.parametrize("path", ["a", "org/app", "a/b/c", "a.b_c__d--e/f", "a" * 255, "a" * 63])
def test_repository_path_accepts(path: str) -> None:
    assert validate_repository_path(path, field="image_path") == path


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "must not be empty"),
        ("Org/app", "must be lowercase"),
        ("org//app", "path components"),
        ("/org", "path components"),
        ("org/", "path components"),
        ("org/app:1", "path components"),
        ("_a", "path components"),
        ("a_", "path components"),
        ("a..b", "path components"),
        ("a___b", "path components"),
        ("a" * 256, "at most 255"),
        ("0123456789abcdef" * 4, "64-character hexadecimal"),
    ],
)
def test_repository_path_rejects(path: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_repository_path(path, field="image_path")
    assert rules(exc)[0][0] == "image_path"
    assert fragment in exc.value.message


@pytest.mark.parametrize("tag", ["latest", "v1.2.3", "_x", "1", "A-b_c.d", "T" * 128])
def test_tag_accepts(tag: str) -> None:
    assert validate_tag(tag, field="default_tag") == tag


@pytest.mark.parametrize("tag", ["", ".x", "-x", "a" * 129, "a/b", "a:b", "é", "a b"])
def test_tag_rejects(tag: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_tag(tag, field="default_tag")
    assert rules(exc) == [("default_tag", exc.value.issues[0].rule)]
    assert "128" in exc.value.message


@pytest.mark.parametrize("digest", [SHA256, SHA512, "sha384:" + "ab" * 48])
def test_digest_accepts(digest: str) -> None:
    assert validate_digest(digest, field="digest") == digest


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "a" * 63,
        "sha256:" + "a" * 65,
        "sha256:" + "A" * 64,
        "md5:" + "a" * 32,
        "sha256",
        ":" + "a" * 64,
        "sha256:" + "g" * 64,
        "",
    ],
)
def test_digest_rejects(digest: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_digest(digest, field="digest")
    assert rules(exc)[0][0] == "digest"


@pytest.mark.parametrize(
    ("domain", "ok"),
    [
        ("registry.example.com", True),
        ("Registry.Example.com:443", True),
        ("localhost", True),
        ("127.0.0.1:5000", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("host:0", False),
        ("host:x", False),
        ("ho_st", False),
        ("[::1]5000", False),
        ("", False),
    ],
)
def test_domain(domain: str, ok: bool) -> None:
    if ok:
        assert validate_domain(domain, field="d") == domain
    else:
        with pytest.raises(InvalidInput):
            validate_domain(domain, field="d")
