"""The service's core: what a reconciliation, extension, suggest or lookup request answers.

No web framework here: :class:`Service` takes parsed requests
(:class:`Ask`) and returns the JSON-ready objects of the W3C Reconciliation
Service API; :mod:`pipeline.serve.app` puts them on HTTP. A name is
transliterated and reconciled by the same functions as ``camps lookup``
(:func:`pipeline.lookup.query_of`, :func:`pipeline.reconcile.resolve`, the
katakana overrides), so the candidates and decisions are the reconcile stage's,
byte for byte.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Sequence
from typing import Any

from pipeline import __version__, lookup
from pipeline import overrides as ov
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.errors import InputDataError
from pipeline.records import Decision
from pipeline.serve.entities import PROPERTIES, TYPES, Entities, types_of

#: The query properties used as evidence: both add to the name's region hint.
QUERY_PROPERTIES = {
    "region": "region in 1945 terms (Chita Oblast, チタ州, Kazakh SSR…)",
    "country": "country or SSR of 1945 (Mongolia, Kazakh SSR, カザフ…)",
}

#: Identifier and schema spaces: stable URNs, whatever host or port serves them.
IDENTIFIER_SPACE = "urn:camps-map:place:"
SCHEMA_SPACE = "urn:camps-map:schema:"


class RequestError(InputDataError):
    """A request the service refuses, with the HTTP status (4xx) to answer it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class Limits:
    """What protects the process: sizes, counts and times of one request."""

    #: bytes of a request body
    max_body_bytes: int = 1_000_000
    #: queries in one reconciliation batch (OpenRefine sends 10 by default)
    max_queries: int = 500
    #: ids in one extension request, names in one lookup
    max_ids: int = 1_000
    #: candidates a query may ask for (``limit``)
    max_limit: int = 25
    #: characters of one name
    max_name_chars: int = 200
    #: seconds to answer one request once its body is in
    time_limit_s: float = 10.0
    #: seconds a client may take to send its body
    read_timeout_s: float = 10.0
    #: distinct (name, hint, width) outcomes kept in memory
    cache_size: int = 50_000


@dataclasses.dataclass(frozen=True)
class Ask:
    """One reconciliation query, parsed: the name and the evidence that goes with it."""

    text: str
    region: str = ""
    country: str = ""
    types: tuple[str, ...] = ()
    limit: int | None = None

    @property
    def hint(self) -> str:
        """The raw-file ``region`` column the stage would get: region, then country."""
        return "|".join(h for h in (self.region.strip(), self.country.strip()) if h)


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A name's query and outcome (overrides applied), as the stage computes them."""

    query: rc.Query
    outcome: rc.Outcome


class Service:
    """The loaded gazetteer index, overrides and model, answering API requests.

    Built once by ``camps serve`` (:func:`pipeline.serve.load_service`); every
    request reads it, none changes it. Outcomes are kept in a bounded LRU owned
    by the object, so a name asked again costs a dictionary look-up.
    """

    def __init__(
        self,
        index: rc.Index,
        overrides: Sequence[ov.Override],
        model: tr.Model,
        transliterate_params: tr.TransliterateParams,
        reconcile_params: rc.ReconcileParams,
        entities: Entities,
        limits: Limits | None = None,
    ) -> None:
        self.index = index
        self.overrides = tuple(overrides)
        self.model = model
        self.transliterate_params = transliterate_params
        self.reconcile_params = reconcile_params
        self.entities = entities
        self.limits = limits or Limits()
        self._cached = functools.lru_cache(maxsize=self.limits.cache_size)(self._resolve)

    def use_overrides(self, overrides: Sequence[ov.Override]) -> None:
        """Answer with these decisions from now on (``--review`` after each one it records)."""
        self.overrides = tuple(overrides)
        self._cached = functools.lru_cache(maxsize=self.limits.cache_size)(self._resolve)

    # -- matching -------------------------------------------------------------

    def _resolve(self, text: str, hint: str, top_k: int) -> Resolved:
        params = self.reconcile_params
        if top_k != params.top_k:
            params = dataclasses.replace(params, top_k=top_k)
        query = lookup.query_of(text, self.model, self.transliterate_params, hint)
        outcome = rc.resolve(query, self.index, params)
        override = ov.find(self.overrides, "", ov.key_of(text))
        if override is not None:
            outcome = rc.apply_override(outcome, override, self.index, params)
        return Resolved(query, outcome)

    def resolve(self, text: str, hint: str = "", top_k: int | None = None) -> Resolved:
        """The stage's query and outcome of one name with a ``region`` hint."""
        return self._cached(text, hint, top_k or self.reconcile_params.top_k)

    def check_name(self, text: Any, where: str) -> str:
        """A query's name, refused when it is not text, empty, symbols only or too long."""
        if not isinstance(text, str):
            raise RequestError(400, f"{where}: the name must be a string, got {_kind(text)}")
        if not text.strip():
            raise RequestError(400, f"{where}: the name is empty: send a katakana name")
        if not any(ch.isalpha() for ch in text):
            raise RequestError(
                400, f"{where}: {text[:40]!r} has no letters: send a name such as ライチハ"
            )
        if len(text) > self.limits.max_name_chars:
            raise RequestError(
                400,
                f"{where}: the name has {len(text):,} characters, over "
                f"{self.limits.max_name_chars}: a place name is a few words",
            )
        return text

    def candidates(self, ask: Ask) -> list[dict[str, Any]]:
        """The W3C candidates of one query: the stage's, score 0-100, with type and description.

        ``match`` is true only where the stage's decision is ``auto`` (or an
        override) and the candidate is the chosen place.
        """
        top_k = max(self.reconcile_params.top_k, ask.limit or 0)
        outcome = self.resolve(ask.text, ask.hint, top_k).outcome
        matched = outcome.decision in (Decision.AUTO, Decision.OVERRIDE)
        out = []
        for cand in outcome.candidates:
            place = self.entities.places[cand.place_id]
            if ask.types and not set(types_of(place)) & set(ask.types):
                continue
            shown = cand.as_w3c(matched and cand.place_id == outcome.place_id)
            shown["score"] = round(shown["score"] * 100, 2)
            shown["type"] = self.entities.type_objects(place)
            described = self.entities.description(place)
            shown["description"] = f"{described}; {shown['description']}"
            out.append(shown)
        return out[: ask.limit or self.reconcile_params.top_k]

    def reconcile(self, asks: Sequence[Ask], deadline: float) -> list[list[dict[str, Any]]]:
        """The candidates of each query of a batch, in order; refused past ``deadline``."""
        out = []
        for ask in asks:
            if time.monotonic() > deadline:
                raise RequestError(
                    408,
                    f"the batch took over {self.limits.time_limit_s:g} s: "
                    "send fewer queries per batch",
                )
            out.append(self.candidates(ask))
        return out

    def lookup(self, asks: Sequence[Ask], deadline: float) -> list[dict[str, Any]]:
        """The plain JSON lookup: ranked places with where they are, the decision, the readings.

        ``columns`` holds the reconcile stage's cells for the name as strings,
        exactly as ``camps reconcile`` writes them (no record-id overrides).
        """
        out = []
        for ask in asks:
            if time.monotonic() > deadline:
                raise RequestError(
                    408, f"the lookup took over {self.limits.time_limit_s:g} s: send fewer names"
                )
            found = self.resolve(ask.text, ask.hint)
            outcome, query = found.outcome, found.query
            columns = outcome.columns()
            ranked = []
            for cand, shown in zip(
                outcome.candidates, json.loads(columns["candidates"]), strict=True
            ):
                place = self.entities.places[cand.place_id]
                ranked.append(
                    {
                        **shown,
                        "lat": place.lat,
                        "lon": place.lon,
                        "region_1945": self.entities.region_1945(place),
                        "country": place.country,
                        "name_cyrillic": self.entities.cyrillic.get(place.place_id, ""),
                        "type": list(types_of(place)),
                    }
                )
            out.append(
                {
                    "query": ask.text,
                    "region": ask.hint,
                    "key": query.key,
                    "region_hint": query.region_hint,
                    "romaji": query.romaji,
                    "cyrillic_candidates": list(query.cyrillic),
                    "latin_candidates": list(query.latin),
                    "decision": str(outcome.decision),
                    "place_id": outcome.place_id,
                    "place_name": outcome.place_name,
                    "score": round(outcome.score, 4),
                    "candidates": ranked,
                    "columns": columns,
                }
            )
        return out

    # -- the rest of the API --------------------------------------------------

    def manifest(self, base: str, version: str = "0.2") -> dict[str, Any]:
        """The service manifest of API ``version`` (0.2, OpenRefine's, or 1.0-draft)."""
        types = [{"id": k, "name": v} for k, v in TYPES.items()]
        common = {
            "name": "Siberian internment camp places (camps serve)",
            "identifierSpace": IDENTIFIER_SPACE,
            "schemaSpace": SCHEMA_SPACE,
            "serviceVersion": __version__,
            "defaultTypes": types,
            "view": {"url": f"{base}/place/{{{{id}}}}"},
        }
        if version == "1.0-draft":
            return {
                **common,
                "versions": ["1.0-draft"],
                "view": {"url": f"{base}/place/{{id}}"},
                "preview": {"width": 400, "height": 200},
                "suggest": {"entity": True, "property": False, "type": False},
                "extend": {"propose_properties": True, "property_settings": []},
            }
        return {
            **common,
            "versions": ["0.1", "0.2"],
            "preview": {"url": f"{base}/preview?id={{{{id}}}}", "width": 400, "height": 200},
            "suggest": {"entity": {"service_url": base, "service_path": "/suggest/entity"}},
            "extend": {
                "propose_properties": {"service_url": base, "service_path": "/properties"},
                "property_settings": [],
            },
        }

    def propose_properties(self, type_id: str, limit: int | None) -> dict[str, Any]:
        """The extension properties offered for a type (every type has them all)."""
        if type_id and type_id not in TYPES:
            raise RequestError(400, f"unknown type {type_id!r}: types are {', '.join(TYPES)}")
        shown = [
            {"id": k, "name": name, "description": about} for k, (name, about) in PROPERTIES.items()
        ]
        out: dict[str, Any] = {"properties": shown[:limit] if limit else shown}
        if type_id:
            out["type"] = type_id
        return out

    def extend(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, Any]:
        """Data extension (0.2 shape): each id's values of each property; unknown ids are empty."""
        rows = {}
        for place_id in ids:
            place = self.entities.places.get(place_id)
            values = self.entities.values(place) if place is not None else {}
            rows[place_id] = {p: values.get(p, []) for p in properties}
        meta = [{"id": p, "name": PROPERTIES[p][0]} for p in properties]
        return {"meta": meta, "rows": rows}

    def suggest(self, prefix: str, limit: int) -> dict[str, Any]:
        """Entities whose name starts with ``prefix`` (katakana, romaji or Cyrillic)."""
        return {
            "result": [
                {
                    "id": place.place_id,
                    "name": place.name,
                    "description": self.entities.description(place),
                    "notable": self.entities.type_objects(place),
                }
                for place in self.entities.suggest(prefix, limit)
            ]
        }


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
