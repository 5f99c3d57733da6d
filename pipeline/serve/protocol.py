"""Parsing the API's payloads into :class:`~pipeline.serve.service.Ask` and checked lists.

Every shape the W3C API allows is read here, and everything else is refused
with a :class:`~pipeline.serve.service.RequestError` that says the fix: a
``queries`` field that is not an object, a batch over the limit, an unknown
property or type, a ``limit`` that is not a positive number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.serve.entities import PROPERTIES, TYPES
from pipeline.serve.service import QUERY_PROPERTIES, Ask, Limits, RequestError, Service


def loads(text: str, field: str) -> Any:
    """JSON of a form field or body; malformed JSON is a 400 that says where."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise RequestError(400, f"{field} is not valid JSON ({exc}): send a JSON object") from None


def _value_text(value: Any, where: str) -> str:
    """A property value as text: a string, a number, an entity's name or id, or a list."""
    if isinstance(value, bool) or value is None:
        raise RequestError(400, f"{where}: a property value must be text, got {value!r}")
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, Mapping):
        text = value.get("name") or value.get("id")
        if isinstance(text, str):
            return text
    if isinstance(value, list):
        return "|".join(_value_text(v, where) for v in value)
    raise RequestError(400, f"{where}: cannot read the property value {str(value)[:60]}")


def _types(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str) or item not in TYPES:
            raise RequestError(
                400, f"{where}: unknown type {str(item)[:40]!r}: types are {', '.join(TYPES)}"
            )
    return tuple(items)


def _limit(value: Any, where: str, limits: Limits) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise RequestError(400, f"{where}: limit must be a whole number, got {value!r}")
    if not 1 <= value <= limits.max_limit:
        raise RequestError(
            400, f"{where}: limit must be from 1 to {limits.max_limit}, got {int(value)}"
        )
    return int(value)


def _evidence(pairs: list[tuple[Any, Any]], where: str) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for pid, value in pairs:
        if pid not in QUERY_PROPERTIES:
            raise RequestError(
                400,
                f"{where}: unknown property {str(pid)[:40]!r}: the service uses "
                f"{', '.join(QUERY_PROPERTIES)}",
            )
        text = _value_text(value, where).strip()
        if text:
            found.setdefault(pid, []).append(text)
    return {pid: "|".join(texts) for pid, texts in found.items()}


def _check_count(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise RequestError(413, f"{count:,} {what} in one request, over {limit:,}: send batches")


def queries_02(raw: Any, service: Service) -> tuple[list[str], list[Ask]]:
    """The keys and queries of a v0.2 ``queries`` object (``{"q0": {"query": ...}}``)."""
    if not isinstance(raw, dict):
        raise RequestError(400, f"queries must be a JSON object of key: query, got {_kind(raw)}")
    _check_count(len(raw), service.limits.max_queries, "queries")
    keys, asks = [], []
    for key, query in raw.items():
        where = f"query {key!r}"
        if not isinstance(query, dict):
            raise RequestError(400, f"{where} must be an object with 'query', got {_kind(query)}")
        text = service.check_name(query.get("query"), where)
        properties = query.get("properties") or []
        if not isinstance(properties, list):
            raise RequestError(400, f"{where}: properties must be a list of {{pid, v}}")
        pairs = []
        for prop in properties:
            if not isinstance(prop, dict):
                raise RequestError(400, f"{where}: each property is an object {{pid, v}}")
            pairs.append((prop.get("pid", prop.get("p")), prop.get("v")))
        evidence = _evidence(pairs, where)
        asks.append(
            Ask(
                text,
                region=evidence.get("region", ""),
                country=evidence.get("country", ""),
                types=_types(query.get("type"), where),
                limit=_limit(query.get("limit"), where, service.limits),
            )
        )
        keys.append(str(key))
    return keys, asks


def queries_10(raw: Any, service: Service) -> list[Ask]:
    """The queries of a 1.0-draft batch (``{"queries": [{"conditions": [...]}]}``)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("queries"), list):
        raise RequestError(400, 'the body must be {"queries": [...]} (1.0-draft)')
    queries = raw["queries"]
    _check_count(len(queries), service.limits.max_queries, "queries")
    asks = []
    for number, query in enumerate(queries):
        where = f"query {number}"
        if not isinstance(query, dict) or not isinstance(query.get("conditions"), list):
            raise RequestError(400, f"{where} must be an object with a 'conditions' list")
        names, pairs = [], []
        for cond in query["conditions"]:
            if not isinstance(cond, dict):
                raise RequestError(400, f"{where}: each condition is an object")
            kind = cond.get("matchType", "name")
            if kind == "name":
                names.append(cond.get("propertyValue"))
            elif kind == "property":
                pairs.append((cond.get("propertyId"), cond.get("propertyValue")))
            else:
                raise RequestError(400, f"{where}: matchType {kind!r} is not supported")
        if len(names) != 1:
            raise RequestError(400, f"{where}: give exactly one condition of matchType name")
        evidence = _evidence(pairs, where)
        asks.append(
            Ask(
                service.check_name(names[0], where),
                region=evidence.get("region", ""),
                country=evidence.get("country", ""),
                types=_types(query.get("type"), where),
                limit=_limit(query.get("limit"), where, service.limits),
            )
        )
    return asks


def extend_query(raw: Any, service: Service) -> tuple[list[str], list[str]]:
    """The ids and property ids of a data extension query (both versions)."""
    if not isinstance(raw, dict):
        raise RequestError(
            400, f"extend must be a JSON object {{ids, properties}}, got {_kind(raw)}"
        )
    ids, properties = raw.get("ids"), raw.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise RequestError(400, "extend: ids must be a list of place ids")
    _check_count(len(ids), service.limits.max_ids, "ids")
    if not isinstance(properties, list) or not properties:
        raise RequestError(400, "extend: properties must be a non-empty list of {id}")
    wanted = []
    for prop in properties:
        pid = prop.get("id") if isinstance(prop, dict) else None
        if pid not in PROPERTIES:
            raise RequestError(
                400,
                f"extend: unknown property {str(pid)[:40]!r}: properties are "
                f"{', '.join(PROPERTIES)}",
            )
        wanted.append(pid)
    return ids, wanted


def lookup_query(raw: Any, service: Service) -> list[Ask]:
    """Names of a lookup: a list of names or of ``{name, region, country}``."""
    items = raw.get("names") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise RequestError(400, 'lookup: send {"names": ["ライチハ", ...]} or ?name=ライチハ')
    _check_count(len(items), service.limits.max_ids, "names")
    asks = []
    for number, item in enumerate(items):
        where = f"name {number}"
        if isinstance(item, dict):
            unknown = sorted(set(item) - {"name", *QUERY_PROPERTIES})
            if unknown:
                raise RequestError(400, f"{where}: unknown field(s) {', '.join(unknown)}")
            evidence = _evidence([(k, v) for k, v in item.items() if k != "name"], where)
            asks.append(
                Ask(
                    service.check_name(item.get("name"), where),
                    region=evidence.get("region", ""),
                    country=evidence.get("country", ""),
                )
            )
        else:
            asks.append(Ask(service.check_name(item, where)))
    return asks


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return kinds.get(type(value), type(value).__name__)
