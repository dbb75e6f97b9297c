"""`Prefer: wait=N` (RFC 7240): a POST that answers with the scan's end, a conditional
GET that answers with a newer version (a long poll), both bounded, both ended at
shutdown (and none begun after it), a malformed `wait` refused with nothing started."""

from __future__ import annotations

import asyncio
import threading

import msgspec
import pytest

from strategies.diagnostic import DIAGNOSTIC, NOTHING
from strategies.registry import Registry, StrategySpec
from tests.support import StaticProvider, eventually
from web.app import create_app
from web.handlers import is_terminal
from web.keys import FEED

TERMINAL = {"completed", "partial", "failed", "cancelled"}
# Deadlines of the polls below: far beyond what each step takes.
DEADLINE_S = 20.0


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
async def make_gated(aiohttp_client, api_settings, gate):  # type: ignore[no-untyped-def]
    """The app with a `gated` strategy that runs (in a thread) until the test opens it,
    and PREFER_WAIT_MAX_S as the test says."""

    def gated(snapshot):  # type: ignore[no-untyped-def]
        gate.wait(DEADLINE_S)
        return NOTHING

    registry = Registry([*DIAGNOSTIC, StrategySpec("gated", "waits for the test", gated)])

    async def build(prefer_wait_max_s: int):  # type: ignore[no-untyped-def]
        settings = msgspec.structs.replace(api_settings, prefer_wait_max_s=prefer_wait_max_s)
        app = create_app(settings, registry=registry, provider=StaticProvider())
        return await aiohttp_client(app)

    try:
        yield build
    finally:
        gate.set()


@pytest.fixture
async def gated_api(make_gated):  # type: ignore[no-untyped-def]
    return await make_gated(prefer_wait_max_s=1)


async def parked(api, request):  # type: ignore[no-untyped-def]
    """Start `request` and return it once the app holds it waiting on a scan."""
    task = asyncio.ensure_future(request)

    async def waiting():  # type: ignore[no-untyped-def]
        assert not task.done(), f"answered without waiting: {task.result().status}"
        return api.server.app[FEED].waiting == 1

    await eventually(waiting, timeout_s=DEADLINE_S, what="the request waiting")
    return task


async def test_post_with_prefer_wait_answers_with_the_terminal_snapshot(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/scans",
        json={"strategies": ["noop", "sleep_100ms"]},
        headers={**auth(), "Prefer": "respond-async, wait=10"},
    )
    body = await response.json()
    assert response.status == 201, body
    assert body["status"] == "completed"
    assert body["progress"]["strategies_completed"] == 2
    assert response.headers["Preference-Applied"] == "wait=10"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert response.headers["Location"] == f"/api/v1/scans/{body['scan_id']}"
    read = await (await api.get(response.headers["Location"], headers=auth())).json()
    assert read["version"] == body["version"]


async def test_a_wait_that_runs_out_answers_202_with_the_newest_snapshot(gated_api, auth) -> None:  # type: ignore[no-untyped-def]
    # PREFER_WAIT_MAX_S is 1 here: a wait of 600 s is cut to 1 s, and says so.
    posting = await parked(
        gated_api,
        gated_api.post(
            "/api/v1/scans",
            json={"strategies": ["gated"]},
            headers={**auth(), "Prefer": "wait=600"},
        ),
    )
    response = await asyncio.wait_for(posting, DEADLINE_S)
    body = await response.json()
    assert response.status == 202, body
    assert body["status"] in {"queued", "running"}
    assert response.headers["Preference-Applied"] == "wait=1"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "99999999999"])
async def test_a_malformed_wait_is_a_400_and_starts_nothing(api, auth, value) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/scans",
        json={"strategies": ["noop"]},
        headers={**auth(), "Prefer": f"wait={value}"},
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_prefer"
    listed = await (await api.get("/api/v1/scans", headers=auth())).json()
    assert listed["scans"] == []


async def test_a_long_poll_follows_every_version_to_the_end(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await api.post(
        "/api/v1/scans",
        json={"strategies": ["noop", "sleep_100ms", "sleep_500ms"]},
        headers=auth(),
    )
    location, etag = created.headers["Location"], created.headers["ETag"]
    seen = [int(etag.strip('"'))]
    status = "queued"
    while status not in TERMINAL:
        response = await api.get(
            location, headers={**auth(), "If-None-Match": etag, "Prefer": "wait=10"}
        )
        # Each wait is far longer than the scan: every answer is a newer version.
        assert response.status == 200, response.status
        assert response.headers["Preference-Applied"] == "wait=10"
        body = await response.json()
        etag, status = response.headers["ETag"], body["status"]
        seen.append(body["version"])
    assert seen == sorted(set(seen)), seen
    assert status == "completed"
    # A conditional read of a finished scan answers at once: nothing newer will come.
    final = await api.get(location, headers={**auth(), "If-None-Match": etag, "Prefer": "wait=10"})
    assert final.status == 304


async def test_a_long_poll_with_no_change_answers_304(gated_api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await gated_api.post("/api/v1/scans", json={"strategies": ["gated"]}, headers=auth())
    location = created.headers["Location"]

    async def running():  # type: ignore[no-untyped-def]
        body = await (await gated_api.get(location, headers=auth())).json()
        return body if body["strategies"][0]["status"] == "running" else None

    # Running, with its one strategy started: nothing changes until the gate opens.
    body = await eventually(running, timeout_s=DEADLINE_S, what="the strategy running")
    etag = f'"{body["version"]}"'
    polling = await parked(
        gated_api,
        gated_api.get(location, headers={**auth(), "If-None-Match": etag, "Prefer": "wait=5"}),
    )
    response = await asyncio.wait_for(polling, DEADLINE_S)
    assert response.status == 304
    assert response.headers["Preference-Applied"] == "wait=1"
    assert response.headers["ETag"] == etag


async def test_a_long_poll_on_another_users_scan_is_a_404_at_once(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await api.post("/api/v1/scans", json={"strategies": ["sleep_2s"]}, headers=auth())
    response = await api.get(
        created.headers["Location"],
        headers={**auth("mallory"), "If-None-Match": created.headers["ETag"], "Prefer": "wait=10"},
    )
    assert response.status == 404


async def test_shutdown_answers_every_waiting_request_and_any_later_one(make_gated, auth) -> None:  # type: ignore[no-untyped-def]
    # The wait asked for outlasts the test's deadline: only shutdown can end it in time.
    long_wait_s = int(DEADLINE_S * 3)
    api = await make_gated(prefer_wait_max_s=long_wait_s)
    headers = {**auth(), "Prefer": f"wait={long_wait_s}"}
    posting = await parked(
        api, api.post("/api/v1/scans", json={"strategies": ["gated"]}, headers=headers)
    )
    await api.server.app.shutdown()  # the app's on_shutdown signal, as at SIGTERM
    response = await asyncio.wait_for(posting, DEADLINE_S)
    assert response.status == 202
    assert (await response.json())["status"] in {"queued", "running"}
    # A request that reaches a wait after shutdown began answers at once.
    later = await asyncio.wait_for(
        api.post(
            "/api/v1/scans",
            json={"strategies": ["gated"]},
            headers={**auth("bob"), "Prefer": f"wait={long_wait_s}"},
        ),
        DEADLINE_S,
    )
    assert later.status == 202


async def test_ending_waits_twice_while_one_expires_raises_nothing(gated_api, auth) -> None:  # type: ignore[no-untyped-def]
    hub = gated_api.server.app[FEED]
    posting = await parked(
        gated_api,
        gated_api.post(
            "/api/v1/scans", json={"strategies": ["gated"]}, headers={**auth(), "Prefer": "wait=1"}
        ),
    )
    hub.end_waits()  # its deadline now expires: the waiting task has not resumed yet
    hub.end_waits()  # an expiring deadline cannot be moved again; it is left alone
    assert (await asyncio.wait_for(posting, DEADLINE_S)).status == 202


async def test_a_scan_that_ended_before_the_wait_subscribed_is_read_after(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    location = created.headers["Location"]

    async def ended():  # type: ignore[no-untyped-def]
        body = await (await api.get(location, headers=auth())).json()
        return body if body["status"] == "completed" else None

    final = await eventually(ended, timeout_s=DEADLINE_S, what="the scan's end")
    # Nothing is published after this: only the hub's read after subscribing sees it.
    frame = await api.server.app[FEED].wait_for(final["scan_id"], is_terminal, DEADLINE_S)
    assert frame is not None and frame.terminal and frame.version == final["version"]


async def test_the_active_scan_returned_with_200_is_waited_for_too(api, auth) -> None:  # type: ignore[no-untyped-def]
    first = await api.post("/api/v1/scans", json={"strategies": ["sleep_500ms"]}, headers=auth())
    again = await api.post(
        "/api/v1/scans",
        json={"strategies": ["noop"]},
        headers={**auth(), "Prefer": "wait=10"},
    )
    body = await again.json()
    assert again.status == 200, body
    assert body["scan_id"] == (await first.json())["scan_id"]
    assert body["status"] == "completed"


@pytest.mark.parametrize(
    ("prefer", "applied"),
    [("respond-async", None), ("wait=0", "wait=0")],
    ids=["no-wait-preference", "zero-wait"],
)
async def test_nothing_to_wait_for_answers_at_once(api, auth, prefer, applied) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/scans",
        json={"strategies": ["sleep_500ms"]},
        headers={**auth(), "Prefer": prefer},
    )
    assert response.status == 202
    assert (await response.json())["status"] == "queued"
    assert response.headers.get("Preference-Applied") == applied


async def test_an_unconditional_or_stale_read_answers_at_once(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await api.post("/api/v1/scans", json={"strategies": ["sleep_2s"]}, headers=auth())
    location = created.headers["Location"]
    for extra in ({}, {"If-None-Match": '"999999"'}):
        response = await api.get(location, headers={**auth(), "Prefer": "wait=10", **extra})
        assert response.status == 200
        assert "Preference-Applied" not in response.headers
    bad = await api.get(location, headers={**auth(), "Prefer": "wait=soon"})
    assert bad.status == 400
    assert (await bad.json())["error"]["code"] == "invalid_prefer"
