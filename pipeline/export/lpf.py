"""Linked Places Format (camps.lpf.json) for the World Historical Gazetteer (v3).

Each feature validates against WHG v3's schema (``whg3_lpf_v2.0.schema.json``) and
the older v1.2 one: ``ccodes`` from the country of the point (one code path,
:func:`pipeline.area.country_of`), GeoNames ``fclasses``, ``types`` with a Getty
AAT identifier, a ``when`` for the camp use (1945-1956), names in katakana
(``ja-Kana``), romaji, English, Cyrillic and the period names of the gazetteer with
their own ``when`` and citations, and a ``closeMatch`` link to GeoNames.

The AAT identifiers are those of WHG's own place-type list
(WorldHistoricalGazetteer/whgazetteer, ``datasets/static/hashes/aat.py``), each
with its AAT preferred plural label; none is made up here.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeline import geonames, io, places
from pipeline.export import lptsv
from pipeline.export.citations import citations, geonames_of
from pipeline.export.params import ExportParams
from pipeline.export.rows import Body, Countries, Placed
from pipeline.records import Certainty
from pipeline.validate import PERIOD

LPF_CONTEXT = (
    "https://raw.githubusercontent.com/LinkedPasts/linked-places/master/"
    "linkedplaces-context-v1.1.jsonld"
)
#: The years of the camp use, as in the layers' title (``ExportParams.title``).
CAMP_YEARS = ("1945", "1956")
CAMP_LABEL = "labour camp for Japanese prisoners of war (principal area)"
#: The camp's type: AAT 300000277 "concentration camps" (WHG's list).
CAMP_TYPE = ("aat:300000277", "concentration camps")
#: AAT type and GeoNames feature class of the gazetteer's feature types.
PLACE_TYPES: Mapping[str, tuple[str, str, str]] = {
    "city": ("aat:300008389", "cities", "P"),
    "town": ("aat:300008375", "towns", "P"),
    "settlement": ("aat:300008347", "inhabited places", "P"),
    "populated place": ("aat:300008347", "inhabited places", "P"),
    "mine": ("aat:300000390", "mines (extracting complexes)", "S"),
    "camp": ("aat:300000277", "concentration camps", "S"),
    "station": ("", "", "S"),
}


@dataclasses.dataclass(frozen=True)
class PlaceFacts:
    """What the built gazetteer says of one place: its type, GeoNames id and names."""

    feature_type: str
    geonames_id: str
    names: tuple[places.Name, ...]
    sources: str = ""  # the curated place's sources (URLs joined by |)


class GazetteerFacts(Mapping[str, PlaceFacts]):
    """Per place id: type, GeoNames id and the names an LPF feature carries.

    Curated names (``ja-Kana``, ``ru``, ``en`` with their periods) are kept; of
    GeoNames' untagged alternate names only the Cyrillic ones, and only where no
    curated Russian name exists. Each place's facts are made when first asked for:
    an export names a few thousand of the gazetteer's 14,000 places, and making
    them all (with the 120,000 names sorted to their places) took a second and a
    half of every export, of ten rows or a million.
    """

    def __init__(self, gazetteer: places.Gazetteer) -> None:
        self._places = gazetteer.places
        self._names = gazetteer.names
        self._rows: dict[str, list[int]] = {}  # place id -> its names' numbers, in order
        for number, place_id in enumerate(places.name_column(gazetteer.names, "place_id")):
            self._rows.setdefault(place_id, []).append(number)
        # the names' languages, all made at once: a place's untagged GeoNames names
        # (most of its names) are left out by their language, never made into Names
        self._langs = list(places.name_column(gazetteer.names, "lang"))
        self._made: dict[str, PlaceFacts] = {}

    def __getitem__(self, place_id: str) -> PlaceFacts:
        made = self._made.get(place_id)
        if made is None:
            place = self._places[place_id]
            numbers, langs = self._rows.get(place_id, ()), self._langs
            curated = [self._names[n] for n in numbers if not langs[n].startswith("und")]
            if not any(n.lang == "ru" for n in curated):
                curated += [self._names[n] for n in numbers if langs[n] == "und-Cyrl"]
            made = PlaceFacts(place.feature_type, place.geonames_id, tuple(curated), place.sources)
            self._made[place_id] = made
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


def period_when(period: str) -> dict[str, Any] | None:
    """An LPF ``when`` from a gazetteer period (``YYYY-YYYY``, ``-YYYY``, ``YYYY-``, ``YYYY``).

    WHG v1.2 needs a ``start`` in each timespan: a name used until a year began
    at the latest in that year.

    >>> period_when("1935-1957")["timespans"]
    [{'start': {'in': '1935'}, 'end': {'in': '1957'}}]
    >>> period_when("-1935")["timespans"]
    [{'start': {'latest': '1935'}, 'end': {'in': '1935'}}]
    >>> period_when("1991-")["timespans"], period_when("") is None
    ([{'start': {'in': '1991'}}], True)
    """
    text = period.strip()
    match = PERIOD.match(text) if text else None
    if match is None:
        return None
    single, start, end = match.groups()
    if single:
        span = {"start": {"in": single}, "end": {"in": single}}
    elif start and end:
        span = {"start": {"in": start}, "end": {"in": end}}
    elif end:
        span = {"start": {"latest": end}, "end": {"in": end}}
    elif start:
        span = {"start": {"in": start}}
    else:
        return None
    return {"timespans": [span], "label": text}


def camp_when() -> dict[str, Any]:
    """The camp use, 1945-1956."""
    start, end = CAMP_YEARS
    return {
        "timespans": [{"start": {"in": start}, "end": {"in": end}}],
        "label": "Japanese prisoners of war held in the USSR and Mongolia",
    }


def _name(toponym: str, lang: str, cited: list[dict[str, str]], period: str = "") -> dict:
    name: dict[str, Any] = {"toponym": toponym, "lang": lang, "citations": cited}
    when = period_when(period)
    if when is not None:
        name["when"] = when
    return name


def _names(
    row: Mapping[str, str],
    facts: PlaceFacts | None,
    known: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The map's katakana and variants, romaji, the place name, the gazetteer's names.

    ``known`` is :func:`known_names` of ``facts``, when made already (a place's
    names are the same for every row at it).
    """
    cited = citations(row.get("source", ""))
    names = [_name(row["katakana"].strip(), "ja-Kana", cited)]
    for variant in row.get("katakana_variants", "").replace("/", "|").split("|"):
        names.append(_name(variant.strip(), "ja-Kana", cited))
    names.append(_name(row.get("romaji", "").strip(), "ja-Latn", cited))
    # The place name comes with the point: cite its GeoNames record or web source,
    # else the row's own sources.
    geo = [c for c in citations(row.get("geocode_source", "")) if "@id" in c] or cited
    names.append(_name(row.get("place_name", "").strip(), "en", geo))
    unique = _merged(names, {})
    return list(_merged(known_names(facts) if known is None else known, unique).values())


def known_names(facts: PlaceFacts | None) -> list[dict[str, Any]]:
    """The gazetteer's names of a place as LPF names, one per toponym and language.

    Merged among themselves first, they merge into a row's own names as each of
    them one by one would: a name's citations join the first one's of its toponym
    and language in order, and the first ``when`` found is kept. No later name
    shares a merged one's key, so a row's merge never changes them: one place's
    list serves all its rows.
    """
    names = []
    for known in facts.names if facts else ():
        lang = "ja-Kana" if known.lang == "ja" and known.script == "Kana" else known.lang
        names.append(_name(known.name.strip(), lang, citations(known.source), known.period))
    return list(_merged(names, {}).values())


def _merged(
    names: Sequence[dict[str, Any]], unique: dict[tuple[str, str], dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """``unique`` with ``names`` merged in: one entry per toponym and language. The
    map's spelling of a period name gets the gazetteer's period, and the citations
    of both (added to the first entry's list, in order)."""
    for name in names:
        key = (name["toponym"], name["lang"])
        if not name["toponym"]:
            continue
        if key not in unique:
            unique[key] = name
            continue
        kept = unique[key]
        kept["citations"] += [c for c in name["citations"] if c not in kept["citations"]]
        if "when" in name and "when" not in kept:
            kept["when"] = name["when"]
    return unique


def geonames_id(row: Mapping[str, str], facts: PlaceFacts | None = None) -> str | None:
    """The row's GeoNames id: from a ``gn:`` place id, the point's source or the gazetteer.

    >>> geonames_id({"place_id": "gn:2025339"}), geonames_id({"place_id": "chita-1945"})
    ('2025339', None)
    >>> geonames_id({"place_id": "vladivostok", "geocode_source": "geonames:2013348"})
    '2013348'
    """
    for text in (row.get("place_id", ""), row.get("geocode_source", "")):
        gid = geonames_of(text)
        if gid is not None:
            return gid
    if facts is not None and facts.geonames_id.strip().isdigit():
        return facts.geonames_id.strip()
    return None


def _types_and_classes(facts: PlaceFacts | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The camp's AAT type, the place's (when known), and the GeoNames classes."""
    camp_id, camp_label = CAMP_TYPE
    types: list[dict[str, Any]] = [
        {
            "identifier": camp_id,
            "label": camp_label,
            "sourceLabels": [{"label": CAMP_LABEL, "lang": "en"}],
            "when": camp_when(),
        }
    ]
    # A point on a 1945 region's centre says nothing of the place's kind: the camp
    # (a site, S) is all that is known then.
    if facts is not None and facts.feature_type in PLACE_TYPES:
        identifier, label, fclass = PLACE_TYPES[facts.feature_type]
        source = facts.feature_type
    else:
        return types, ["S"]
    if identifier and identifier != camp_id:
        types.append(
            {
                "identifier": identifier,
                "label": label,
                "sourceLabels": [{"label": source, "lang": "en"}],
            }
        )
    return types, [fclass]


def _point_citations(
    source: str, place: PlaceFacts | None, gid: str | None
) -> list[dict[str, str]]:
    """Where the point came from: GeoNames, a 1945 region's centre, or a curated place."""
    if geonames_of(source) is not None:
        return citations(source)
    if source.startswith("region:"):
        region = source.removeprefix("region:")
        return [{"label": f"centre of the 1945 region {region} (gazetteer/regions.csv)"}]
    if place is not None and place.sources:
        return citations(place.sources)
    if gid is not None:
        return citations(f"geonames:{gid}")
    return citations(source) or [{"label": "unknown"}]


class Shared:
    """The parts of features that rows of one collection share, each made once.

    A register repeats a few thousand names many times: the rows of one name at one
    place have the same names, types, citations and country. Made once per key and
    reused (the features are only serialised after, never changed), they are the
    same bytes as when each row made its own.
    """

    def __init__(
        self, facts: Mapping[str, PlaceFacts] | None = None, countries: Countries | None = None
    ) -> None:
        self.facts = facts or {}
        self.countries = countries or Countries()
        self._names: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._known: dict[str, list[dict[str, Any]]] = {}  # place id -> known_names
        self._types: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
        self._points: dict[tuple[str, str, str | None], list[dict[str, str]]] = {}
        self.when = camp_when()

    def names(self, row: Mapping[str, str], place_id: str) -> list[dict[str, Any]]:
        key = (place_id, *(row.get(column, "") for column in NAME_COLUMNS))
        if key not in self._names:
            known = self._known.get(place_id)
            if known is None:
                known = self._known[place_id] = known_names(self.facts.get(place_id))
            self._names[key] = _names(row, self.facts.get(place_id), known)
        return self._names[key]

    def types(self, place_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        if place_id not in self._types:
            self._types[place_id] = _types_and_classes(self.facts.get(place_id))
        return self._types[place_id]

    def point_citations(self, source: str, place_id: str, gid: str | None) -> list[dict[str, str]]:
        key = (source, place_id, gid)
        if key not in self._points:
            self._points[key] = _point_citations(source, self.facts.get(place_id), gid)
        return self._points[key]


#: The row cells :func:`_names` reads: rows equal in them (and in place) share names.
NAME_COLUMNS = ("katakana", "katakana_variants", "romaji", "source", "geocode_source", "place_name")


def lpf_feature(
    placed: Placed,
    params: ExportParams,
    facts: Mapping[str, PlaceFacts] | None = None,
    shared: Shared | None = None,
) -> dict[str, Any]:
    """One Linked Places feature of a placed row (``shared``: the collection's made parts)."""
    shared = shared or Shared(facts)
    row, point = placed.row, placed.point
    assert point is not None
    place_id = row.get("place_id", "").strip()
    place = shared.facts.get(place_id)
    title = row.get("place_name", "").strip() or row.get("romaji", "").strip() or row["katakana"]
    certainty = row.get("certainty", "").strip() or Certainty.UNCERTAIN.value
    gid = geonames_id(row, place)
    point_citations = shared.point_citations(row.get("geocode_source", "").strip(), place_id, gid)
    types, fclasses = shared.types(place_id)
    feature: dict[str, Any] = {
        "@id": params.lpf_base_uri + placed.record_id,
        "type": "Feature",
        "properties": {
            "title": title.strip(),
            "ccodes": [shared.countries.of(point)],
            "fclasses": fclasses,
            "symbol_class": placed.symbol_class.value,
            "decision": row["decision"].strip(),
        },
        "when": shared.when,
        "names": shared.names(row, place_id),
        "types": types,
        "geometry": {
            "type": "GeometryCollection",
            "geometries": [
                {
                    "type": "Point",
                    "coordinates": [round(point[0], 6), round(point[1], 6)],
                    "certainty": certainty,
                    "citations": point_citations,
                    "when": shared.when,
                }
            ],
        },
    }
    if gid is not None:
        feature["links"] = [{"type": "closeMatch", "identifier": geonames.URI.format(gid)}]
    return feature


class Features:
    """Each placed row's Linked Places feature as JSON text and as an LP-TSV line,
    made once per body.

    Rows alike but for their record id (:attr:`~pipeline.export.rows.Placed.body`)
    have features that differ in ``@id`` only, its first member: the body's feature
    is made, encoded and made into its LP-TSV line once, and each row's text is that
    text with its own ``@id`` put in, the same bytes as encoding the row's own feature
    (the test suite checks it against :func:`linked_places`).

    A body is kept as pieces of UTF-8 text, each held once for all bodies: its
    feature's members after ``@id`` (:meth:`_members`) and its line's cells after the
    id. The bodies of one place share their names, types and most cells; kept whole,
    each body's own 2.6 KB feature and 0.6 KB line, a million-row register's texts
    took 0.30 GB, now 0.08 GB.
    """

    def __init__(
        self,
        params: ExportParams,
        facts: Mapping[str, PlaceFacts] | None = None,
        countries: Countries | None = None,
    ) -> None:
        self.params = params
        self.shared = Shared(facts, countries)
        self._made: dict[Body, tuple[tuple[bytes, ...], tuple[bytes, ...]]] = {}
        self._kept: dict[bytes, bytes] = {}
        # (member, id of a value Shared holds) -> the value, kept alive so that no
        # other value has its id, and its member text
        self._encoded: dict[tuple[str, int], tuple[Any, bytes]] = {}

    def line(self, placed: Placed) -> bytes:
        """The row's feature as :func:`pipeline.io.feature_json` writes it, in UTF-8."""
        head = _id_member(self.params.lpf_base_uri + placed.record_id)
        return head.encode("utf-8") + b",".join(self._made_for(placed)[0]) + b"}"

    def tsv_line(self, placed: Placed) -> bytes:
        """The row's ``camps.lp.tsv`` line in UTF-8 (its id, then
        :func:`~pipeline.export.lptsv.line_after_id` of its feature)."""
        return b"\t".join((placed.record_id.encode("utf-8"), *self._made_for(placed)[1]))

    def collection(self, camps: Sequence[Placed]) -> dict[str, Any]:
        """The FeatureCollection of :func:`linked_places`, its features as JSON text
        made as they are written (:func:`pipeline.io.write_feature_collection`)."""
        texts: Iterator[bytes] = (self.line(p) for p in camps)
        return _collection(self.params, texts)

    def _made_for(self, placed: Placed) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
        key = placed.body
        made = self._made.get(key)
        if made is None:
            feature = lpf_feature(placed, self.params, shared=self.shared)
            assert next(iter(feature)) == "@id", "@id is a feature's first member"
            line = lptsv.line_after_id(feature, placed.row.get("uncertainty_km", ""))
            cells = tuple(self._kept_text(cell.encode("utf-8")) for cell in line.split("\t"))
            made = self._made[key] = (self._members(feature), cells)
        return made

    def _members(self, feature: dict[str, Any]) -> tuple[bytes, ...]:
        """The feature's members after ``@id`` as JSON text (joined by commas and in
        braces they are its text): each run of members between the shared ones
        encoded at once, each shared one (:data:`SHARED_MEMBERS`) once for all."""
        texts: list[bytes] = []
        after_id = [*feature.items()][1:]
        for shared, members in itertools.groupby(after_id, lambda m: m[0] in SHARED_MEMBERS):
            if not shared:
                texts.append(self._kept_text(_members_text(dict(members))))
                continue
            for name, value in members:
                known = self._encoded.get((name, id(value)))
                if known is None:
                    known = self._encoded[(name, id(value))] = (value, _members_text({name: value}))
                texts.append(known[1])
        return tuple(texts)

    def _kept_text(self, text: bytes) -> bytes:
        """``text``, or the equal text kept for an earlier body."""
        return self._kept.setdefault(text, text)


#: Members of a feature whose values the collection's :class:`Shared` makes once
#: for many bodies (a place's names and types, the camp years).
SHARED_MEMBERS = ("when", "names", "types")


def _members_text(members: dict[str, Any]) -> bytes:
    """The members as they are in a feature's JSON text (without its braces), in UTF-8.

    >>> _members_text({"type": "Feature", "title": "Чита"}).decode()
    '"type":"Feature","title":"Чита"'
    """
    return io.feature_json(members)[1:-1].encode("utf-8")


def _id_member(identifier: str) -> str:
    """A feature's JSON text up to its first member, ``@id``, and the comma after it.

    >>> _id_member("urn:x:1")
    '{"@id":"urn:x:1",'
    """
    return '{"@id":' + io.feature_json(identifier) + ","


def _collection(params: ExportParams, features: Any) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "@context": LPF_CONTEXT,
        "title": params.title,
        "attribution": geonames.CREDIT,
        "features": features,
    }


def linked_places(
    camps: Sequence[Placed],
    params: ExportParams,
    facts: Mapping[str, PlaceFacts] | None = None,
    countries: Countries | None = None,
) -> dict[str, Any]:
    """The Linked Places FeatureCollection of every placed row (for the World Historical
    Gazetteer); camps.lp.tsv is written from the same features. ``countries``: the
    export's memo of each point's country."""
    shared = Shared(facts, countries)
    return _collection(params, [lpf_feature(p, params, facts, shared) for p in camps])
