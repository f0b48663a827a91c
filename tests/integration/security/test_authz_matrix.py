"""Who may call what: every api route × (owner, other user, invited interviewer, admin, anonymous).

Each route belongs to one family in MATRIX; a family says, for each caller, whether the call must
pass the gate ("ok": neither 401, 403 nor 404, and never a 5xx) or which refusal it must get. A
route the app publishes but MATRIX does not list fails the test, so a new endpoint cannot ship
without someone deciding who may call it.
"""

from __future__ import annotations

from typing import Any

import httpx

from mocki.app import API_PREFIX
from tests.conftest import register
from tests.integration.questions.helpers import PASSWORD, admin_headers
from tests.support.routes import PARAM, SLUG_IDS, body_for, make_objects, routes

OK = "ok"  # passed authentication and authorization: a 2xx, or a 4xx about the request itself
CALLERS = ("anonymous", "other", "interviewer", "admin", "owner")

# family -> caller -> OK or the status the caller must get
FAMILIES: dict[str, dict[str, str | int]] = {
    "public": dict.fromkeys(CALLERS, OK),
    "signed_in": {"anonymous": 401, "other": OK, "interviewer": OK, "admin": OK, "owner": OK},
    # Objects are their owner's alone; to anybody else they do not exist (admins included).
    "owner": {"anonymous": 401, "other": 404, "interviewer": 404, "admin": 404, "owner": OK},
    # New owner-only actions of a live interview: an invited interviewer is told no (403).
    "owner_live": {"anonymous": 401, "other": 404, "interviewer": 403, "admin": 404, "owner": OK},
    "participant": {"anonymous": 401, "other": 404, "interviewer": OK, "admin": 404, "owner": OK},
    "interviewer": {"anonymous": 401, "other": 404, "interviewer": OK, "admin": 404, "owner": 403},
    "admin": {"anonymous": 401, "other": 403, "interviewer": 403, "admin": OK, "owner": 403},
}

_A = API_PREFIX
MATRIX: dict[str, list[tuple[str, str]]] = {
    "public": [
        ("GET", f"{_A}/health"),
        ("POST", f"{_A}/auth/register"),
        ("POST", f"{_A}/auth/login"),
        ("POST", f"{_A}/auth/refresh"),
        ("POST", f"{_A}/auth/logout"),
        ("POST", f"{_A}/auth/firebase"),
        ("GET", f"{_A}/tracker/reminders/unsubscribe"),
    ],
    "signed_in": [
        ("GET", f"{_A}/users/me"),
        ("POST", f"{_A}/users/me/password"),
        ("POST", f"{_A}/documents"),
        ("GET", f"{_A}/documents"),
        ("POST", f"{_A}/documents/text"),
        ("POST", f"{_A}/documents/upload-keys"),
        ("GET", f"{_A}/questions"),
        ("POST", f"{_A}/questions"),
        ("POST", f"{_A}/questions/import"),
        ("GET", f"{_A}/questions/export"),
        ("GET", f"{_A}/interviews"),
        ("POST", f"{_A}/interviews"),
        ("POST", f"{_A}/invites/accept"),
        ("GET", f"{_A}/progress"),
        ("GET", f"{_A}/retrieval/search"),
        ("GET", f"{_A}/coding/problems"),
        ("GET", f"{_A}/coding/problems/{{problem_id}}"),
        ("POST", f"{_A}/coding/problems/{{problem_id}}/run"),
        ("POST", f"{_A}/tracker/accounts/imap"),
        ("POST", f"{_A}/tracker/accounts/gmail/authorize"),
        ("POST", f"{_A}/tracker/accounts/gmail/callback"),
        ("GET", f"{_A}/tracker/accounts"),
        ("POST", f"{_A}/tracker/uploads"),
        ("GET", f"{_A}/tracker/syncs"),
        ("GET", f"{_A}/tracker/applications"),
        ("POST", f"{_A}/tracker/applications"),
        ("GET", f"{_A}/tracker/board"),
        ("GET", f"{_A}/tracker/analytics"),
        ("GET", f"{_A}/tracker/emails"),
        ("GET", f"{_A}/tracker/threads"),
        ("GET", f"{_A}/tracker/todos"),
        ("POST", f"{_A}/tracker/todos"),
        ("GET", f"{_A}/tracker/reminders/preferences"),
        ("PUT", f"{_A}/tracker/reminders/preferences"),
        ("GET", f"{_A}/tracker/notifications/preferences"),
        ("PUT", f"{_A}/tracker/notifications/preferences"),
        ("POST", f"{_A}/tracker/jobs/import"),
        ("GET", f"{_A}/tracker/jobs"),
        ("GET", f"{_A}/tracker/recommendations"),
        ("GET", f"{_A}/rtc/config"),
        ("POST", f"{_A}/rtc/offer"),
        # Deleting one's own account: called last (see _ordered), by each caller for themselves.
        ("DELETE", f"{_A}/users/me"),
    ],
    "owner": [
        ("GET", f"{_A}/documents/{{document_id}}"),
        ("DELETE", f"{_A}/documents/{{document_id}}"),
        ("GET", f"{_A}/documents/{{document_id}}/text"),
        ("POST", f"{_A}/documents/{{document_id}}/reindex"),
        ("GET", f"{_A}/questions/{{question_id}}"),
        ("PATCH", f"{_A}/questions/{{question_id}}"),
        ("DELETE", f"{_A}/questions/{{question_id}}"),
        ("GET", f"{_A}/interviews/{{interview_id}}"),
        ("DELETE", f"{_A}/interviews/{{interview_id}}"),
        ("POST", f"{_A}/interviews/{{interview_id}}/start"),
        ("POST", f"{_A}/interviews/{{interview_id}}/answer"),
        ("POST", f"{_A}/interviews/{{interview_id}}/end"),
        ("GET", f"{_A}/interviews/{{interview_id}}/report"),
        ("GET", f"{_A}/interviews/{{interview_id}}/report.pdf"),
        ("GET", f"{_A}/tracker/accounts/{{account_id}}"),
        ("PATCH", f"{_A}/tracker/accounts/{{account_id}}"),
        ("DELETE", f"{_A}/tracker/accounts/{{account_id}}"),
        ("POST", f"{_A}/tracker/accounts/{{account_id}}/revoke"),
        ("POST", f"{_A}/tracker/accounts/{{account_id}}/sync"),
        ("GET", f"{_A}/tracker/syncs/{{sync_id}}"),
        ("GET", f"{_A}/tracker/applications/{{application_id}}"),
        ("PATCH", f"{_A}/tracker/applications/{{application_id}}"),
        ("POST", f"{_A}/tracker/applications/{{application_id}}/prep"),
        ("PATCH", f"{_A}/tracker/todos/{{todo_id}}"),
        ("DELETE", f"{_A}/tracker/todos/{{todo_id}}"),
        ("GET", f"{_A}/tracker/jobs/imports/{{import_id}}"),
        # A live call belongs to whoever opened it; the matrix opens none (voice models), so the
        # owner's side is checked in tests/integration/voice/test_webrtc.py (see OWNER_404).
        ("DELETE", f"{_A}/rtc/{{pc_id}}"),
    ],
    "owner_live": [
        ("POST", f"{_A}/interviews/{{interview_id}}/invites"),
    ],
    "participant": [
        ("GET", f"{_A}/interviews/{{interview_id}}/live"),
        ("GET", f"{_A}/interviews/{{interview_id}}/notes"),
    ],
    "interviewer": [
        ("POST", f"{_A}/interviews/{{interview_id}}/takeover"),
        ("POST", f"{_A}/interviews/{{interview_id}}/handback"),
        ("POST", f"{_A}/interviews/{{interview_id}}/human-turn"),
        ("POST", f"{_A}/interviews/{{interview_id}}/notes"),
    ],
    "admin": [
        ("GET", f"{_A}/admin/queues"),
        ("GET", f"{_A}/admin/workers"),
        ("GET", f"{_A}/admin/dead-letters"),
        ("POST", f"{_A}/admin/dead-letters/{{letter_id}}/retry"),
        ("GET", f"{_A}/admin/users"),
        ("PATCH", f"{_A}/admin/users/{{user_id}}"),
        ("GET", f"{_A}/admin/audit"),
    ],
}
# Routes whose id names nothing here even for the allowed caller, so "ok" may be a 404: no dead
# letter exists, no call is open. Their refusals to everyone else are still checked.
# A feature this server is not configured for answers 503 with its own code before any object
# is touched: the caller got through the gate, so it counts as "ok".
NOT_CONFIGURED = {"firebase_disabled", "gmail_disabled"}
OWNER_404 = {("POST", f"{_A}/admin/dead-letters/{{letter_id}}/retry"), ("DELETE", f"{_A}/rtc/{{pc_id}}")}


def _family_of() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for family, listed in MATRIX.items():
        for route in listed:
            assert route not in table, f"{route} is in two families"
            table[route] = family
    return table


def _ordered(all_routes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # Deletions last (they remove what other routes need), the caller's own account the very last.
    def key(route: tuple[str, str]) -> tuple[int, str, str]:
        method, path = route
        return (
            2 if path.endswith("/users/me") and method == "DELETE" else int(method == "DELETE"),
            path,
            method,
        )

    return sorted(all_routes, key=key)


def _passes(route: tuple[str, str], resp: httpx.Response) -> bool:
    if resp.status_code == 503 and resp.json()["error"]["code"] in NOT_CONFIGURED:
        return True
    refused = {401, 403} if route in OWNER_404 else {401, 403, 404}
    return resp.status_code < 500 and resp.status_code not in refused


def _body(method: str, path: str) -> dict[str, str]:
    if (method, path) == ("DELETE", f"{_A}/users/me"):
        # Every caller's password (register() and admin_headers() use the same one).
        return {"password": PASSWORD}
    return body_for(path)


async def _callers(app: Any, client: httpx.AsyncClient) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    owner = await register(client)
    interviewer = await register(client)
    made = await make_objects(client, owner)
    invite = await client.post(f"{_A}/interviews/{made['interview_id']}/invites", headers=owner, json={})
    assert invite.status_code == 201, invite.text
    accepted = await client.post(
        f"{_A}/invites/accept", headers=interviewer, json={"code": invite.json()["code"]}
    )
    assert accepted.status_code == 200, accepted.text
    made["letter_id"] = made["pc_id"]
    me = await client.get(f"{_A}/users/me", headers=owner)
    made["user_id"] = me.json()["id"]
    callers = {
        "anonymous": {},
        "other": await register(client),
        "interviewer": interviewer,
        "admin": await admin_headers(app, client),
        "owner": owner,
    }
    return callers, made


async def test_every_route_answers_each_caller_as_the_matrix_says(
    app: Any, client: httpx.AsyncClient
) -> None:
    family_of = _family_of()
    published = routes(app)
    unlisted = [r for r in published if r not in family_of]
    assert not unlisted, f"add these routes to MATRIX in {__name__}: {unlisted}"
    stale = [r for r in family_of if r not in published]
    assert not stale, f"MATRIX lists routes the app no longer has: {stale}"

    callers, made = await _callers(app, client)
    wrong: list[tuple[str, str, str, int, str]] = []
    for method, path in _ordered(published):
        expected = FAMILIES[family_of[(method, path)]]
        url = PARAM.sub(
            lambda m: made.get(m.group(1), "two-sum") if m.group(1) in SLUG_IDS else made[m.group(1)], path
        )
        for caller in CALLERS:
            resp = await client.request(method, url, headers=callers[caller], json=_body(method, path))
            want = expected[caller]
            good = _passes((method, path), resp) if want == OK else resp.status_code == want
            if not good:
                wrong.append((method, path, caller, resp.status_code, resp.text[:200]))
    assert not wrong, "\n".join(map(str, wrong))
