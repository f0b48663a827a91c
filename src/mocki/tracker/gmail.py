"""Gmail: the OAuth2 web flow (google-auth-oauthlib, read-only scope) and the REST endpoints a sync calls.

Endpoints used (under `tracker.gmail_api_url`, /gmail/v1/users/me/...):
- `GET profile`: the address and the current historyId;
- `GET labels`: label names to ids, for the label filter;
- `GET messages?q=&labelIds=&pageToken=&maxResults=`: the first sync's message ids;
- `GET messages/{id}?format=raw`: one message as RFC 822 bytes (base64url);
- `GET history?startHistoryId=&historyTypes=messageAdded&pageToken=`: what arrived since the
  cursor; a 404 means the id is too old, and the sync starts over (duplicates are dropped).
An expired access token is refreshed once with the refresh token (`tracker.google_token_uri`)
and the new token is stored with the next batch.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from mocki.tracker.config import GMAIL_READONLY_SCOPE, TrackerSettings
from mocki.tracker.sources import Batch, MailSourceError, RawMessage, chunks

API = "/gmail/v1/users/me"


# ----------------------------------------------------------------------------------- OAuth2


def _client_config(cfg: TrackerSettings, redirect_uri: str) -> dict[str, Any]:
    return {
        "web": {
            "client_id": cfg.google_client_id,
            "client_secret": cfg.google_client_secret,
            "auth_uri": cfg.google_auth_uri,
            "token_uri": cfg.google_token_uri,
            "redirect_uris": [redirect_uri],
        }
    }


def authorization_url(cfg: TrackerSettings, redirect_uri: str, state: str) -> tuple[str, str]:
    """The consent page's URL and the PKCE code verifier to keep until the callback."""
    from google_auth_oauthlib.flow import Flow  # type: ignore[import-untyped]

    flow = Flow.from_client_config(
        _client_config(cfg, redirect_uri),
        scopes=[GMAIL_READONLY_SCOPE],
        redirect_uri=redirect_uri,
        autogenerate_code_verifier=True,
    )
    url, _ = flow.authorization_url(access_type="offline", prompt="consent", state=state)
    return str(url), str(flow.code_verifier)


def exchange_code(cfg: TrackerSettings, redirect_uri: str, code: str, code_verifier: str) -> dict[str, Any]:
    """Trade the callback's code for tokens (blocking: call it from a thread)."""
    from google_auth_oauthlib.flow import Flow
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error  # type: ignore[import-untyped]

    flow = Flow.from_client_config(
        _client_config(cfg, redirect_uri),
        scopes=[GMAIL_READONLY_SCOPE],
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
    )
    try:
        flow.fetch_token(code=code)
    except (OAuth2Error, ValueError, OSError) as exc:
        raise MailSourceError(f"Google did not accept the sign-in code: {exc}") from exc
    creds = flow.credentials
    if not creds.refresh_token:
        raise MailSourceError(
            "Google sent no refresh token; remove MOCKI's access in your Google account and try again."
        )
    granted = set(creds.granted_scopes or [GMAIL_READONLY_SCOPE])
    if GMAIL_READONLY_SCOPE not in granted:
        raise MailSourceError("Read access to Gmail was not granted.")
    return {
        "access_token": creds.token,
        "refresh_token": creds.refresh_token,
        "expires_at": creds.expiry.replace(tzinfo=UTC).timestamp() if creds.expiry else time.time() + 3000,
    }


def revoke(cfg: TrackerSettings, token: str, *, timeout_s: float) -> bool:
    """Ask Google to revoke the grant; False when it could not be reached (the local copy is wiped anyway)."""
    try:
        response = httpx.post(cfg.google_revoke_uri, data={"token": token}, timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code in (200, 400)  # 400: already revoked or expired


# ----------------------------------------------------------------------------------- the API


class GmailClient:
    """The few Gmail REST calls a sync needs, with one token refresh on 401."""

    def __init__(
        self, cfg: TrackerSettings, tokens: dict[str, Any], *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.cfg = cfg
        self.tokens = dict(tokens)
        self.refreshed = False
        self._http = httpx.Client(base_url=cfg.gmail_api_url, timeout=cfg.http_timeout_s, transport=transport)

    def _refresh(self) -> None:
        try:
            response = self._http.post(
                self.cfg.google_token_uri,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.tokens.get("refresh_token", ""),
                    "client_id": self.cfg.google_client_id,
                    "client_secret": self.cfg.google_client_secret,
                },
            )
        except httpx.HTTPError as exc:
            raise MailSourceError(f"Could not reach Google to refresh the access: {exc}") from exc
        if response.status_code != 200:
            raise MailSourceError(
                "Google refused to refresh the access (it was revoked?); connect Gmail again."
            )
        body = response.json()
        self.tokens["access_token"] = body["access_token"]
        self.tokens["expires_at"] = time.time() + float(body.get("expires_in", 3600))
        self.refreshed = True

    def get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> dict[str, Any]:
        if float(self.tokens.get("expires_at", 0)) < time.time() + 30:
            self._refresh()
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.tokens.get('access_token', '')}"}
            try:
                response = self._http.get(API + path, params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise MailSourceError(f"Gmail could not be reached: {exc}") from exc
            if response.status_code == 401 and attempt == 0:
                self._refresh()
                continue
            if response.status_code == 404:
                raise NotFoundError(path)
            if response.status_code >= 400:
                raise MailSourceError(f"Gmail answered {response.status_code} to {path.split('?')[0]}.")
            data: dict[str, Any] = response.json()
            return data
        raise MailSourceError("Gmail refused the refreshed access token.")

    def profile(self) -> dict[str, Any]:
        return self.get("/profile")

    def label_ids(self, names: list[str]) -> list[str]:
        labels = self.get("/labels").get("labels", [])
        by_name = {str(lab["name"]).lower(): str(lab["id"]) for lab in labels}
        ids = {str(lab["id"]) for lab in labels}
        out = []
        for name in names:
            if name in ids:
                out.append(name)
            elif name.lower() in by_name:
                out.append(by_name[name.lower()])
            else:
                raise MailSourceError(f"No Gmail label named {name!r}.")
        return out

    def raw(self, message_id: str) -> tuple[bytes, datetime | None]:
        data = self.get(f"/messages/{message_id}", {"format": "raw"})
        raw = base64.urlsafe_b64decode(str(data.get("raw", "")) + "==")
        internal = data.get("internalDate")
        received = datetime.fromtimestamp(int(internal) / 1000, UTC) if internal else None
        return raw, received

    def close(self) -> None:
        self._http.close()


class NotFoundError(MailSourceError):
    """Gmail answered 404 (for history: the start id is too old)."""


class GmailSource:
    """A Gmail mailbox, filtered by labels and a start date, incremental by history id."""

    def __init__(
        self,
        cfg: TrackerSettings,
        tokens: dict[str, Any],
        *,
        labels: list[str],
        since: date | None,
        batch_size: int,
        max_bytes: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.client = GmailClient(cfg, tokens, transport=transport)
        self.labels, self.since = labels, since
        self.batch_size, self.max_bytes = batch_size, max_bytes

    def _credentials(self) -> dict[str, Any] | None:
        return dict(self.client.tokens) if self.client.refreshed else None

    def batches(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        label_ids = self.client.label_ids(self.labels) if self.labels else []
        if cursor.get("history_id"):
            try:
                yield from self._incremental(str(cursor["history_id"]), label_ids)
                return
            except NotFoundError:
                pass  # too old: read everything again
        yield from self._full(cursor.get("full") or {}, label_ids)

    def _full(self, state: dict[str, Any], label_ids: list[str]) -> Iterator[Batch]:
        history_id = str(state.get("history_id") or self.client.profile()["historyId"])
        params: list[tuple[str, Any]] = [("maxResults", self.batch_size)] + [
            ("labelIds", i) for i in label_ids
        ]
        if self.since:
            params.append(
                (
                    "q",
                    f"after:{int(datetime.combine(self.since, datetime.min.time(), UTC).timestamp())}",
                )
            )
        page = state.get("page_token")
        while True:
            listing = self.client.get("/messages", params + ([("pageToken", page)] if page else []))
            ids = [str(m["id"]) for m in listing.get("messages", [])]
            page = listing.get("nextPageToken")
            cursor = (
                {"full": {"history_id": history_id, "page_token": page}}
                if page
                else {"history_id": history_id}
            )
            total = listing.get("resultSizeEstimate")
            yield Batch(
                self._fetch(ids),
                cursor,
                total=int(total) if total is not None else None,
                credentials=self._credentials(),
            )
            if not page:
                return

    def _incremental(self, start: str, label_ids: list[str]) -> Iterator[Batch]:
        ids: list[str] = []
        latest = start
        page = None
        while True:
            params: list[tuple[str, Any]] = [("startHistoryId", start), ("historyTypes", "messageAdded")]
            if len(label_ids) == 1:
                params.append(("labelId", label_ids[0]))
            history = self.client.get("/history", params + ([("pageToken", page)] if page else []))
            latest = str(history.get("historyId") or latest)
            for record in history.get("history", []):
                for added in record.get("messagesAdded", []):
                    message = added.get("message", {})
                    if label_ids and not set(label_ids) & set(message.get("labelIds", [])):
                        continue
                    if message.get("id") and message["id"] not in ids:
                        ids.append(str(message["id"]))
            page = history.get("nextPageToken")
            if not page:
                break
        if not ids:
            yield Batch([], {"history_id": latest}, total=0, credentials=self._credentials())
            return
        parts = list(chunks(ids, self.batch_size))
        for number, part in enumerate(parts, start=1):
            # Until the last batch is stored, the cursor stays where this sync started.
            cursor = {"history_id": latest if number == len(parts) else start}
            yield Batch(self._fetch(part), cursor, total=len(ids), credentials=self._credentials())

    def _fetch(self, ids: list[str]) -> list[RawMessage]:
        out = []
        for message_id in ids:
            try:
                raw, received = self.client.raw(message_id)
            except NotFoundError:
                continue  # deleted since it was listed
            if len(raw) > self.max_bytes:
                out.append(
                    RawMessage(message_id, None, received, problem=f"larger than {self.max_bytes} bytes")
                )
            else:
                out.append(RawMessage(message_id, raw, received))
        return out

    def close(self) -> None:
        self.client.close()


def default_since(days: int) -> date:
    return (datetime.now(UTC) - timedelta(days=days)).date()
