"""The static preview (``map.png``): the ministry map's legend drawn with matplotlib.

A Lambert conformal conic fitted to the points (pyproj), the same markers as the
QGIS style (:data:`pipeline.style.MARKERS`), labels in katakana with Latin,
decluttered so none is drawn over another. May import :mod:`pipeline.style` and
:mod:`pipeline.records`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.records import LEGEND, SymbolClass
from pipeline.style import MARKERS, REVIEW_COLOUR, Marker

#: Extent shown when there is no point: the USSR and Mongolia (lon min, lon max, lat min, lat max).
DEFAULT_EXTENT = (20.0, 180.0, 35.0, 75.0)
_MPL_SHAPES = {"circle": "o", "triangle": "^"}


@dataclasses.dataclass(frozen=True)
class PreviewPoint:
    """What the preview needs of one camp: where, its class, label and review state."""

    lon: float
    lat: float
    symbol_class: SymbolClass
    label: str
    review: bool


def preview_extent(points: Sequence[PreviewPoint], pad: float = 4.0) -> tuple[float, ...]:
    """The lon/lat box around the points, padded, kept on the globe.

    >>> preview_extent([PreviewPoint(130.0, 45.0, SymbolClass.SMALL, "", False)])
    (126.0, 134.0, 41.0, 49.0)
    >>> preview_extent([]) == DEFAULT_EXTENT
    True
    """
    if not points:
        return DEFAULT_EXTENT
    lons = [p.lon for p in points]
    lats = [p.lat for p in points]
    return (
        max(-180.0, min(lons) - pad),
        min(180.0, max(lons) + pad),
        max(-90.0, min(lats) - pad),
        min(90.0, max(lats) + pad),
    )


#: More labels than this turn a register's preview into ink; the biggest classes win.
MAX_LABELS = 250


def labelled(points: Sequence[PreviewPoint], limit: int = MAX_LABELS) -> list[PreviewPoint]:
    """The points that get a label: one per distinct point, larger classes first.

    >>> a = PreviewPoint(130.0, 45.0, SymbolClass.SMALL, "A", False)
    >>> b = PreviewPoint(98.0, 56.0, SymbolClass.OVER_20000, "B", False)
    >>> [p.label for p in labelled([a, a, b], limit=1)]
    ['B']
    """
    order = {klass: rank for rank, klass in enumerate(MARKERS)}
    distinct = sorted(dict.fromkeys(points), key=lambda p: (order[p.symbol_class], p.label))
    return distinct[:limit]


def _points_size(marker: Marker) -> float:
    """matplotlib scatter size (points²) for a marker ``size_mm`` across."""
    return (marker.size_mm / 25.4 * 72) ** 2


def _latin_only(label: str) -> str:
    """A label without its kana, for a machine with no katakana font.

    >>> _latin_only("チタ Chita")
    'Chita'
    """
    return " ".join(w for w in label.split() if not any("\u3040" <= c <= "\u30ff" for c in w))


def conic_crs(extent: Sequence[float]) -> str:
    """A Lambert conformal conic fitted to a lon/lat box (west, east, south, north).

    Central meridian in the middle of the box; standard parallels at one sixth and
    five sixths of its latitudes (the usual rule for a conic), so scale errors stay
    small across the USSR's 40 degrees of latitude and angles stay true.

    >>> conic_crs((20.0, 180.0, 35.0, 75.0))
    '+proj=lcc +lat_1=41.667 +lat_2=68.333 +lat_0=55 +lon_0=100 +datum=WGS84 +units=m +no_defs'
    """
    west, east, south, north = extent
    span = north - south
    return (
        f"+proj=lcc +lat_1={south + span / 6:.3f} +lat_2={north - span / 6:.3f} "
        f"+lat_0={(south + north) / 2:g} +lon_0={(west + east) / 2:g} "
        "+datum=WGS84 +units=m +no_defs"
    ).replace(".000 ", " ")


def _graticule(axes: Any, project: Any, extent: Sequence[float]) -> None:
    """Meridians and parallels every 10 degrees, projected, with their degrees at the edge."""
    west, east, south, north = extent
    steps = 60
    for lon in range(int(math.floor(west / 10) * 10), int(east) + 11, 10):
        lats = [south - 10 + (north - south + 20) * i / steps for i in range(steps + 1)]
        xs, ys = project([lon] * len(lats), lats)
        axes.plot(xs, ys, color="#b8c4cc", linewidth=0.3, linestyle=":", zorder=1)
    for lat in range(int(math.floor(south / 10) * 10), int(north) + 11, 10):
        lons = [west - 20 + (east - west + 40) * i / steps for i in range(steps + 1)]
        xs, ys = project(lons, [lat] * len(lons))
        axes.plot(xs, ys, color="#b8c4cc", linewidth=0.3, linestyle=":", zorder=1)


#: Debian's fonts-ipafont-gothic, which draws katakana (matplotlib's own fonts do not).
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


def cjk_font() -> str | None:
    """The family name of a katakana-capable font, registered with matplotlib, or ``None``.

    Registered from its file, so a font cache built before the font was installed
    does not hide it.
    """
    from matplotlib import font_manager

    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


#: Where a label may sit beside its symbol (offset in points, alignment), in order of preference.
LABEL_SPOTS = ((4, 3, "left"), (-4, 3, "right"), (4, -9, "left"), (-4, -9, "right"))


def declutter(texts: Sequence[Any], renderer: Any, frame: Any, pad: float = 1.5) -> int:
    """Place each label where it overlaps no label placed before it, or hide it.

    ``texts`` are matplotlib annotations in priority order (larger classes first);
    each tries the :data:`LABEL_SPOTS` in turn and must stay inside ``frame`` (the
    axes' box in display units). Returns how many labels are drawn.
    """
    kept: list[Any] = []
    for text in texts:
        for dx, dy, align in LABEL_SPOTS:
            text.set_position((dx, dy))
            text.set_horizontalalignment(align)
            box = text.get_window_extent(renderer).padded(pad)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(other) for other in kept):
                kept.append(box)
                break
        else:
            text.set_visible(False)
    return len(kept)


def draw_preview(points: Sequence[PreviewPoint], boundaries: Any, title: str, credit: str) -> Any:
    """A matplotlib figure in a conformal conic: outlines, graticule, symbols, labels, legend.

    ``boundaries`` is a GeoDataFrame of country polygons or ``None`` (then only the
    graticule is drawn). The map is a Lambert conformal conic fitted to the points
    (:func:`conic_crs`, through pyproj), cropped to the points' projected box, so
    Siberia keeps its shape and no third of the sheet is blank. Labels are drawn in
    the legend's colours, larger classes first, and a label that would overlap one
    already drawn is left out (:func:`declutter`).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.lines import Line2D
    from pyproj import Transformer

    extent = preview_extent(points, pad=2.0)
    crs = conic_crs(extent)
    project = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    if points:
        xs, ys = project([p.lon for p in points], [p.lat for p in points])
    else:
        west, east, south, north = extent
        xs, ys = project(
            [west, east, west, east, (west + east) / 2], [south, south, north, north, north]
        )
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    margin = 0.04 * max(x1 - x0, y1 - y0, 200_000.0)
    x0, x1, y0, y1 = x0 - margin, x1 + margin, y0 - margin, y1 + margin
    # the legend takes about 3.6 of the 11 inches; the map gets the rest at its own aspect
    height = min(9.0, max(3.0, 7.4 * (y1 - y0) / (x1 - x0)))
    figure, axes = pyplot.subplots(figsize=(11, height + 0.9), layout="constrained")
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_aspect("equal")
    axes.set_facecolor("#dfeaf2")
    if boundaries is not None:
        from shapely import box

        west, east, south, north = extent
        near = box(
            max(-180, west - 40), max(-90, south - 25), min(180, east + 40), min(90, north + 15)
        )
        clipped = boundaries.clip(near)
        clipped = clipped[~clipped.geometry.is_empty]
        clipped.to_crs(crs).plot(ax=axes, facecolor="#f6f3ea", edgecolor="#8c8c8c", linewidth=0.5)
    _graticule(axes, project, extent)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_ylabel("")
    for klass, marker in MARKERS.items():
        for review in (False, True):
            chosen = [
                i for i, p in enumerate(points) if p.symbol_class is klass and p.review is review
            ]
            if not chosen:
                continue
            axes.scatter(
                [xs[i] for i in chosen],
                [ys[i] for i in chosen],
                s=_points_size(marker),
                marker=_MPL_SHAPES[marker.shape],
                facecolors=marker.fill,
                edgecolors=REVIEW_COLOUR if review else marker.outline,
                linewidths=marker.outline_mm / 25.4 * 72 * (1.6 if review else 1),
                linestyles="--" if review else "-",
                zorder=3,
            )
    font = cjk_font()
    texts = []
    for point in labelled(points):
        x, y = project(point.lon, point.lat)
        text = point.label if font else _latin_only(point.label)
        texts.append(
            axes.annotate(
                text,
                (x, y),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=5.5,
                fontfamily=[font or "DejaVu Sans", "DejaVu Sans"],
                color=LEGEND[point.symbol_class][1],
                zorder=4,
            )
        )
    figure.canvas.draw()  # lay the labels out, so their boxes can be measured
    declutter(texts, figure.canvas.get_renderer(), axes.get_window_extent())  # type: ignore[attr-defined]
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=_MPL_SHAPES[m.shape],
            markersize=m.size_mm / 25.4 * 72,
            markerfacecolor=m.fill,
            markeredgecolor=m.outline,
            markeredgewidth=m.outline_mm / 25.4 * 72,
            label=LEGEND[k][0],
        )
        for k, m in MARKERS.items()
    ]
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=8,
            markerfacecolor="#ffffff",
            markeredgecolor=REVIEW_COLOUR,
            markeredgewidth=1.5,
            label="Place under review (dashed orange outline)",
        )
    )
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    axes.set_title(title, fontsize=10, fontfamily=[font or "DejaVu Sans", "DejaVu Sans"])
    axes.set_xlabel("Lambert conformal conic; graticule every 10°", fontsize=7)
    figure.text(0.005, 0.005, credit, fontsize=5.5, color="#555555")
    return figure
