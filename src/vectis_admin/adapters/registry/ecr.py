"""Amazon ECR: the registry password is a 12-hour token minted from AWS credentials.

`EcrTokenProvider` mints it with boto3 `GetAuthorizationToken` (after `AssumeRole` when a role
ARN is set), caches it per credentials until a safety margin before `expiresAt`, and never hands
out a token past its expiry — an already-expired answer is an error, not a loop.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from vectis_admin.errors import UpstreamError

__all__ = ["EcrCredentialsRejected", "EcrToken", "EcrTokenProvider"]


class EcrCredentialsRejected(UpstreamError):
    """AWS refused the access key, the secret or the role."""


@dataclass(frozen=True)
class EcrToken:
    username: str
    password: str = field(repr=False)
    expires_at: datetime
    proxy_endpoint: str


@dataclass(frozen=True)
class _Key:
    digest: str  # sha256 of the credentials: the cache never holds them in clear as a key


class EcrTokenProvider:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        endpoint_url: str | None = None,
        timeout: float = 10.0,
        # Re-mint once two thirds of the token's life are gone (12 h → after 8 h).
        refresh_fraction: float = 2 / 3,
    ) -> None:
        self._clock = clock
        self._endpoint_url = endpoint_url
        self._config = Config(
            connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2}
        )
        self._refresh_fraction = refresh_fraction
        self._cache: dict[_Key, tuple[EcrToken, datetime]] = {}
        self._lock = threading.Lock()

    def token(
        self,
        *,
        access_key_id: str,
        secret_access_key: str,
        region: str,
        account: str | None = None,
        role_arn: str | None = None,
    ) -> EcrToken:
        key = _Key(
            hashlib.sha256(
                "\0".join(
                    [access_key_id, secret_access_key, region, account or "", role_arn or ""]
                ).encode()
            ).hexdigest()
        )
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached and now < cached[1]:
                return cached[0]
        minted_at = now
        token = self._mint(
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=region,
            account=account,
            role_arn=role_arn,
        )
        if token.expires_at <= self._clock():
            raise UpstreamError(
                f"ECR returned a token that expired at {token.expires_at.isoformat()}; "
                "check the console's clock and the AWS endpoint"
            )
        refresh_at = minted_at + (token.expires_at - minted_at) * self._refresh_fraction
        with self._lock:
            self._cache[key] = (token, refresh_at)
        return token

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _client(self, service: str, region: str, **credentials: Any) -> Any:
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=self._endpoint_url,
            config=self._config,
            **credentials,
        )

    def _mint(
        self,
        *,
        access_key_id: str,
        secret_access_key: str,
        region: str,
        account: str | None,
        role_arn: str | None,
    ) -> EcrToken:
        credentials: dict[str, str] = {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        try:
            if role_arn:
                sts = self._client("sts", region, **credentials)
                assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="vectis-admin")
                temporary = assumed["Credentials"]
                credentials = {
                    "aws_access_key_id": temporary["AccessKeyId"],
                    "aws_secret_access_key": temporary["SecretAccessKey"],
                    "aws_session_token": temporary["SessionToken"],
                }
            ecr = self._client("ecr", region, **credentials)
            kwargs = {"registryIds": [account]} if account else {}
            data = ecr.get_authorization_token(**kwargs)["authorizationData"][0]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            if code in {
                "UnrecognizedClientException",
                "InvalidClientTokenId",
                "SignatureDoesNotMatch",
                "AccessDenied",
                "AccessDeniedException",
            }:
                raise EcrCredentialsRejected(
                    f"AWS rejected the credentials ({code}): check the access key, its secret "
                    "and, if set, that the role can be assumed and allows "
                    "ecr:GetAuthorizationToken"
                ) from None
            raise UpstreamError(f"AWS answered {code} to GetAuthorizationToken") from None
        except BotoCoreError as exc:
            raise UpstreamError(
                f"cannot reach AWS to get an ECR token ({type(exc).__name__})"
            ) from None
        username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        return EcrToken(
            username=username,
            password=password,
            expires_at=data["expiresAt"],
            proxy_endpoint=data["proxyEndpoint"],
        )
