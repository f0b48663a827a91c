"""The signed-in user's own account: read it, change its password, delete it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from redis.asyncio import Redis

from mocki.auth import service as auth
from mocki.auth.deps import Claims, CurrentUser
from mocki.cache.reads import NOT_MODIFIED, json_response
from mocki.deps import SessionDep, SettingsDep
from mocki.security.ratelimit import client_ip
from mocki.users import deletion
from mocki.users.schemas import DeleteAccountIn, PasswordChangeIn, UserOut

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserOut, responses=NOT_MODIFIED)
async def me(request: Request, user: CurrentUser) -> Response:
    # Serialised once here, not validated again against response_model (the cached row is exact).
    return json_response(request, UserOut.model_validate(user).model_dump_json().encode())


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChangeIn, user: CurrentUser, request: Request, session: SessionDep
) -> Response:
    """Set a new password (the policy applies); every sign-in session ends at its next refresh."""
    await auth.change_password(
        session, user.id, body.current_password, body.new_password, ip=client_ip(request.scope)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(
    body: DeleteAccountIn,
    user: CurrentUser,
    claims: Claims,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Delete the account and everything it owns: documents, vectors, interviews, mail data, caches."""
    await deletion.delete_account(
        session,
        settings,
        user.id,
        password=body.password,
        token_issued_at=claims.issued_at,
        redis_clients=_redis_clients(request),
        vector_sync=getattr(request.app.state, "vector_sync", None),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _redis_clients(request: Request) -> list[Redis[bytes]]:
    """The app's Redis and, when the rate limits live on another one, that one too."""
    clients: list[Redis[bytes]] = [request.app.state.redis]
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None and request.app.state.settings.rate_limits.storage_url:
        clients.append(limiter.redis)
    return clients
