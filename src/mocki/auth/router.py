"""Auth endpoints: register, login, refresh, logout, Firebase."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from mocki.auth import service
from mocki.auth.deps import firebase_verifier
from mocki.auth.firebase import FirebaseVerifier
from mocki.auth.schemas import FirebaseIn, LoginIn, RefreshIn, RegisterIn, TokenPair
from mocki.deps import SessionDep, SettingsDep
from mocki.security.ratelimit import client_ip
from mocki.users import service as users_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", response_model=TokenPair, status_code=status.HTTP_201_CREATED)
async def register(body: RegisterIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    user = await users_service.create_user(session, body.email, body.password, body.name)
    return await service.issue_tokens(session, settings, user)


@router.post(
    "/login",
    response_model=TokenPair,
    responses={429: {"description": "Too many failed sign-ins for this account or address (Retry-After)."}},
)
async def login(body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPair:
    return await service.login(
        session,
        settings,
        body.email,
        body.password,
        throttle=getattr(request.app.state, "login_throttle", None),
        ip=client_ip(request.scope),
    )


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    return await service.refresh(session, settings, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, session: SessionDep) -> Response:
    await service.logout(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/firebase", response_model=TokenPair)
async def firebase(
    body: FirebaseIn,
    session: SessionDep,
    settings: SettingsDep,
    verifier: Annotated[FirebaseVerifier, Depends(firebase_verifier)],
) -> TokenPair:
    # Fetching the key set is blocking network I/O; keep it off the event loop.
    identity = await run_in_threadpool(verifier.verify, body.id_token)
    return await service.firebase_login(session, settings, identity)
