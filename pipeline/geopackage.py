"""The map as a GeoPackage: one layer per kind, each with a QGIS style stored inside.

GeoJSON mixes points and lines in one file; QGIS then asks which geometry to
load and styles all kinds alike. The GeoPackage beside it (``<stem>.gpkg``)
holds one layer per ``kind`` (``rendezvous``, ``dark_rendezvous``, ``track``,
``loitering``, ``gap``) with the same properties (lists and objects as JSON
text: GeoPackage has no list type), and a default style per layer in the
``layer_styles`` table, which QGIS applies when the layer is added. The
styles read the simplestyle properties as data-defined values
(``marker-color``, ``marker-size``, ``stroke``, ``stroke-width``), so QGIS,
geojson.io and web maps all show the same colours; events are drawn most
suspicious on top, gaps dashed. Analysts can edit ``verdict``/``note`` here
too: ``stswatch review import`` reads GeoPackages as well as GeoJSON.

Written aside and renamed, like every output.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

#: Layer order in the file (QGIS lists them in this order).
LAYER_KINDS = ("rendezvous", "dark_rendezvous", "track", "loitering", "gap")
_POINT_KINDS = {"rendezvous", "dark_rendezvous", "loitering"}


def _field_values(features: list[dict[str, Any]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """One field's values (typed array) and its null mask."""
    raw = [f["properties"].get(name) for f in features]
    mask = np.array([v is None for v in raw])
    present = [v for v in raw if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return np.array([bool(v) if v is not None else False for v in raw]), mask
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return np.array([v if v is not None else 0 for v in raw], dtype=np.int64), mask
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([v if v is not None else np.nan for v in raw], dtype=np.float64), mask
    text = [
        None
        if v is None
        else json.dumps(v, ensure_ascii=False)
        if isinstance(v, list | dict)
        else str(v)
        for v in raw
    ]
    return np.array(text, dtype=object), mask


def _write_layer(path: Path, kind: str, features: list[dict[str, Any]], append: bool) -> None:
    import shapely
    from pyogrio.raw import write

    names = list(dict.fromkeys(k for f in features for k in f["properties"]))
    columns = [_field_values(features, n) for n in names]
    geometry = np.array(
        [shapely.to_wkb(shapely.from_geojson(json.dumps(f["geometry"]))) for f in features],
        dtype=object,
    )
    write(
        str(path),
        geometry,
        [c[0] for c in columns],
        names,
        field_mask=[c[1] for c in columns],
        layer=kind,
        driver="GPKG",
        geometry_type="Point" if kind in _POINT_KINDS else "MultiLineString",
        promote_to_multi=kind not in _POINT_KINDS,
        crs="EPSG:4326",
        append=append,
        # GeoPackage 1.2: read without warnings by the GDAL of every QGIS LTR in use
        # (GDAL 3.6 in QGIS 3.22 warns that 1.4 "may only be partially supported")
        dataset_options=None if append else {"VERSION": "1.2"},
    )


def _dd(name: str, expression: str) -> str:
    return (
        f'<Option name="{name}" type="Map"><Option name="active" type="bool" value="true"/>'
        f'<Option name="expression" type="QString" value={quoteattr(expression)}/>'
        '<Option name="type" type="int" value="3"/></Option>'
    )


def _symbol_layer(cls: str, props: dict[str, str], defined: dict[str, str]) -> str:
    prop_xml = "".join(f'<prop k="{k}" v={quoteattr(v)}/>' for k, v in props.items())
    dd = "".join(_dd(k, e) for k, e in defined.items())
    return (
        f'<layer class="{cls}" enabled="1" locked="0" pass="0">{prop_xml}'
        '<data_defined_properties><Option type="Map"><Option name="name" type="QString" value=""/>'
        f'<Option name="properties" type="Map">{dd}</Option>'
        '<Option name="type" type="QString" value="collection"/></Option>'
        "</data_defined_properties></layer>"
    )


def layer_style_qml(kind: str) -> str:
    """A QGIS style (QML) drawing ``kind`` from its simplestyle properties."""
    if kind in _POINT_KINDS:
        size = (
            "CASE WHEN \"marker-size\" = 'large' THEN 5.5 "
            "WHEN \"marker-size\" = 'medium' THEN 4 ELSE 2.8 END"
        )
        layer = _symbol_layer(
            "SimpleMarker",
            {
                "name": "circle",
                "color": "128,128,128,255",
                "outline_color": "255,255,255,255",
                "outline_width": "0.3",
                "size": "3",
                "size_unit": "MM",
            },
            {"fillColor": "coalesce(\"marker-color\", '#808080')", "size": size},
        )
        symbol = f'<symbol type="marker" name="0" alpha="1" clip_to_extent="1">{layer}</symbol>'
        order = '<orderby><orderByClause asc="1" nullsFirst="1">"score"</orderByClause></orderby>'
        order_attr = ' enableorderby="1"' if kind != "loitering" else ""
    else:
        layer = _symbol_layer(
            "SimpleLine",
            {
                "line_color": "68,68,68,255",
                "line_width": "1.5",
                "line_width_unit": "Pixel",
                "line_style": "dash" if kind == "gap" else "solid",
                "capstyle": "round",
            },
            {
                "outlineColor": "coalesce(\"stroke\", '#444444')",
                "outlineWidth": 'coalesce("stroke-width", 1.5)',
            },
        )
        symbol = f'<symbol type="line" name="0" alpha="1" clip_to_extent="1">{layer}</symbol>'
        order, order_attr = "", ""
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28.0" styleCategories="Symbology">'
        f'<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0"{order_attr}>'
        f"<symbols>{symbol}</symbols>{order}</renderer-v2></qgis>"
    )


def _add_styles(path: Path, kinds: Iterable[str]) -> None:
    """QGIS's ``layer_styles`` table (its own schema), one default style per layer."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            # QGIS's own default: an ISO time the GeoPackage spec accepts (CURRENT_TIMESTAMP
            # writes "YYYY-MM-DD HH:MM:SS", which GDAL reports as non-conformant)
            "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )
        for kind in kinds:
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '')",
                (kind, f"stswatch {kind}", layer_style_qml(kind), escape(f"stswatch {kind}")),
            )


def write_geopackage(path: Path, document: dict[str, Any]) -> Path | None:
    """The FeatureCollection ``document`` as a GeoPackage at ``path``; None when it is empty."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for feature in document.get("features", []):
        by_kind.setdefault(feature["properties"].get("kind", "other"), []).append(feature)
    kinds = [k for k in LAYER_KINDS if by_kind.get(k)]
    path = Path(path)
    if not kinds:
        path.unlink(missing_ok=True)
        return None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        for i, kind in enumerate(kinds):
            _write_layer(tmp, kind, by_kind[kind], append=i > 0)
        _add_styles(tmp, kinds)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
