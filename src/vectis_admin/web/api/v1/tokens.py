"""`/api/v1/tokens`: the caller's API tokens (the secret is shown once, at creation)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vectis_admin.web.deps import AccountsDep, ActorDep
from vectis_admin.web.schemas.common import TokenCreate, TokenCreated, TokenPublic

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=list[TokenPublic])
def list_tokens(accounts: AccountsDep, actor: ActorDep) -> list[TokenPublic]:
    return [TokenPublic.of(t) for t in accounts.list_tokens(actor)]


@router.post("", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, accounts: AccountsDep, actor: ActorDep) -> TokenCreated:
    new = accounts.create_token(username=actor, name=body.name, ttl_days=body.ttl_days, actor=actor)
    return TokenCreated(**TokenPublic.of(new.record).model_dump(), token=new.token)


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: str, accounts: AccountsDep, actor: ActorDep) -> Response:
    accounts.revoke_token(token_id, username=actor, actor=actor)
    return Response(status_code=204)
