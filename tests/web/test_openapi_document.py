"""The OpenAPI document covers every route the application serves, with the
error responses each can give."""

from __future__ import annotations

import re

# Served files, not an API: one catch-all route.
UNDOCUMENTED_PREFIXES = ("/static",)
PARAMETER = re.compile(r"\{(\w+)[^}]*\}")


def route_paths(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if path.startswith(UNDOCUMENTED_PREFIXES):
            continue
        sub_app = info.get("app")
        if sub_app is not None:
            found |= route_paths(sub_app)  # its resources carry the full path
            continue
        for route in resource:
            if route.method not in ("HEAD", "OPTIONS", "*"):
                found.add((route.method.lower(), PARAMETER.sub(r"{\1}", path)))
    return found


async def test_every_route_is_in_the_document(api) -> None:  # type: ignore[no-untyped-def]
    document = await (await api.get("/api/v1/openapi.json")).json()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    served = route_paths(api.server.app)
    assert served, "no routes found"
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "documented operations that no route serves"


async def test_every_operation_documents_its_errors(api) -> None:  # type: ignore[no-untyped-def]
    document = await (await api.get("/api/v1/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert "503" in statuses, f"{method} {path} has no 503"
            if operation["security"]:
                assert "401" in statuses, f"{method} {path} has no 401"
            assert any(code.startswith(("2", "1")) for code in statuses), (method, path)


async def test_the_document_shows_what_strategies_found_and_what_to_do(api) -> None:  # type: ignore[no-untyped-def]
    schemas = (await (await api.get("/api/v1/openapi.json")).json())["components"]["schemas"]
    state = schemas["StrategyState"]["properties"]
    assert {"evaluated", "skipped", "skipped_counts"} <= set(state)
    assert set(schemas["Skip"]["properties"]) == {"symbol", "code", "message"}
    opportunity = schemas["Opportunity"]["properties"]
    assert {
        "opportunity_id", "action", "order_type", "group_id", "legs", "levels_note",
        "conflicts", "horizon_bars",
    } <= set(opportunity)  # fmt: skip
    assert set(schemas["Action"]["enum"]) == {
        "open_long", "open_short", "reduce", "hedge", "rebalance", "quote",
    }  # fmt: skip
    assert set(schemas["OrderType"]["enum"]) == {"limit", "market", "stop"}
    assert {"type": "null"} in opportunity["stop"]["anyOf"]
    # The old results route documents the old shape: none of the new fields.
    assert "action" not in schemas["OldOpportunity"]["properties"]
