"""create_app() and its lifespan: engine, Redis, LLM, embedder and vector store are built once here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from mocki import __version__, cache
from mocki.admin.router import router as admin_router
from mocki.auth.router import router as auth_router
from mocki.coding.router import router as coding_router
from mocki.core.db import make_engine, make_sessionmaker
from mocki.core.errors import NotFound, install_error_handlers
from mocki.core.limits import BodySizeLimit
from mocki.core.logging import setup_logging
from mocki.documents import sealing
from mocki.documents.router import router as documents_router
from mocki.interviews.intents import IntentClassifier
from mocki.interviews.live_router import router as live_router
from mocki.interviews.router import progress_router
from mocki.interviews.router import router as interviews_router
from mocki.interviews.service import build_engine
from mocki.llm.factory import make_llm
from mocki.observability.http import HTTPMetrics
from mocki.questions.router import router as questions_router
from mocki.realtime import emit as room_emit
from mocki.realtime import server as rooms
from mocki.retrieval.embeddings import Embedder, make_embedder
from mocki.retrieval.router import router as retrieval_router
from mocki.retrieval.service import Retriever
from mocki.retrieval.store import VectorStore, VectorStoreBusy, open_store
from mocki.retrieval.sync import VectorSyncer
from mocki.security import wiring as security
from mocki.settings import Settings, get_settings
from mocki.tasks.celery_app import make_celery
from mocki.tracker.router import router as tracker_router
from mocki.users.router import router as users_router
from mocki.voice.router import router as voice_router

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Secrets never reach a log line, whatever logging config uvicorn or a test installs; our own
    # lines go to stderr when nothing else set up logging (uvicorn sets up only its loggers).
    setup_logging("api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.redis = Redis.from_url(settings.resolved_redis_url)
        # The two-level read cache, reached through each session; invalidations from other processes.
        app.state.cache = cache.TwoLevelCache(settings.read_cache, app.state.redis)
        cache.attach(app.state.sessionmaker, app.state.cache)
        await app.state.cache.start()
        # Rate limits and the replay guard (security/), found by their middlewares on app.state.
        security.start(app, settings, app.state.redis)
        embedder = make_embedder(settings, redis=app.state.redis)
        app.state.embedder = embedder  # tracker recommendations embed resume lines with it
        # Behind the answer cache (exact, then semantic), scoped per user by the callers.
        app.state.llm = make_llm(settings, redis=app.state.redis, embedder=embedder)
        app.state.llm_plain = make_llm(settings)
        app.state.celery = make_celery(settings)
        store, syncer = _open_vectors(app, settings)
        app.state.retriever = Retriever(store, embedder, settings.retrieval) if store is not None else None
        app.state.vector_sync = syncer
        # Intents of candidate turns; the plain client, so no cached label crosses users.
        app.state.intents = IntentClassifier(settings, embedder, app.state.llm_plain)
        # The interview engine: its agents and their memories (interviews/agents, history.py).
        app.state.interviewer = build_engine(settings)
        # Start the embedding process and load its model (and the intent model: trained once,
        # then cached under the data directory) now, not on the first interview. Tests skip the
        # intent model: each test app has its own data directory and would train it again.
        warm = asyncio.create_task(_warm(embedder, None if settings.env == "test" else app.state.intents))
        # Live rooms (realtime/): turns and reports are broadcast through this process's server.
        app.state.rooms = rooms.room_emitter(app.state.sio, app)
        room_emit.install(app.state.rooms)
        # Voice calls (voice/): the hub and its STT/TTS model pools start at the first call.
        app.state.voice = None
        try:
            yield
        finally:
            if app.state.voice is not None:
                await app.state.voice.aclose()
            room_emit.uninstall(app.state.rooms)
            await rooms.close_server(app.state.sio)
            warm.cancel()
            if syncer is not None:
                await syncer.stop()
            await embedder.aclose()
            if store is not None:
                store.close()
            await app.state.llm.aclose()
            await app.state.llm_plain.aclose()
            await security.stop(app)
            await app.state.cache.stop()
            await app.state.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="MOCKI",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
    )
    app.state.settings = settings
    # Documents are sealed under keys from this configuration's key provider (issue 8).
    sealing.configure(settings)
    install_error_handlers(app)
    # Signed requests and replays are checked inside the body-size limit (the guard reads the body).
    security.add_inner_middleware(app)
    # Room for the largest document plus the multipart framing around it.
    app.add_middleware(BodySizeLimit, max_bytes=settings.documents.max_bytes + 64 * 1024)
    # Outermost: the per-IP rate limit refuses a flood before any body is read.
    security.add_outer_middleware(app)
    # Strict CORS and the security headers (CSP, HSTS behind TLS, no-store on the api).
    security.add_browser_middleware(app, settings)
    # Outside everything: request latency and status by route, refused requests included.
    app.add_middleware(HTTPMetrics)

    for router in (
        auth_router,
        users_router,
        documents_router,
        questions_router,
        interviews_router,
        live_router,
        progress_router,
        retrieval_router,
        coding_router,
        admin_router,
        tracker_router,
        voice_router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    # Live rooms at /socket.io (realtime/server.py), before the web app's catch-all route.
    app.state.sio = rooms.build_server(settings, app)
    app.mount(f"/{rooms.SOCKETIO_PATH}", rooms.asgi_app(app.state.sio))

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # This process's counters (the LLM answer cache among them), in Prometheus' text format.
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get(f"{API_PREFIX}/health", tags=["meta"])
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    _mount_web(app, settings)
    return app


async def _warm(embedder: Embedder, intents: IntentClassifier | None) -> None:
    try:
        await embedder.embed(["warm-up"])
        if intents is not None:
            await intents.classify("warm-up")
    except Exception as exc:  # reported again, with context, by the first real call
        log.warning("warm-up failed: %s", exc)


def _open_vectors(app: FastAPI, settings: Settings) -> tuple[VectorStore | None, VectorSyncer | None]:
    """The vector store and its outbox replay. The embedded store belongs to one process: a second
    api process on the same data directory runs without retrieval (search answers 503 and
    interviews are planned by keywords) instead of failing to start."""
    try:
        store = open_store(settings)
    except VectorStoreBusy as exc:
        log.warning("retrieval is off in this process: %s", exc)
        return None, None
    syncer = VectorSyncer(app.state.sessionmaker, store)
    syncer.start()
    return store, syncer


def _mount_web(app: FastAPI, settings: Settings) -> None:
    dist = settings.web_dist or Path(__file__).resolve().parents[2] / "web" / "dist"
    if not (dist / "index.html").exists():
        return
    app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")
    index = dist / "index.html"

    # The single-page app owns every other path that is not under the api.
    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> FileResponse:
        if path.startswith("api/"):
            raise NotFound(f"No route {path!r}")
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and dist.resolve() in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(index)
