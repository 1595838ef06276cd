"""Open an stswatch GeoPackage in QGIS, headless, and report what an analyst would see.

Run with the Python that has QGIS's bindings (Debian: ``/usr/bin/python3`` with
``python3-qgis``), not the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_open_layers.py OUT.gpkg OUT.png

Each layer is added the way QGIS's "Add Vector Layer" adds it (its default
style comes from the file's ``layer_styles`` table); for every feature the
style's data-defined colour and size are evaluated as QGIS would when
drawing, and compared with the feature's simplestyle properties. The map is
rendered to ``OUT.png``. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsSymbolLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

KINDS = ("rendezvous", "dark_rendezvous", "loitering", "track", "gap")
POINTS = {"rendezvous", "dark_rendezvous", "loitering"}
#: what the style's size expression gives for each simplestyle marker-size (mm)
SIZES_MM = {"large": 5.5, "medium": 4.0, "small": 2.8}


def inspect(path: str, kind: str) -> tuple[QgsVectorLayer | None, dict]:
    layer = QgsVectorLayer(f"{path}|layername={kind}", kind, "ogr")
    if not layer.isValid():
        return None, {"valid": False}
    renderer = layer.renderer()
    symbol_layer = renderer.symbol().symbolLayer(0)
    dd = symbol_layer.dataDefinedProperties()
    names = QgsSymbolLayer.propertyDefinitions()
    point = kind in POINTS
    colour_key = QgsSymbolLayer.PropertyFillColor if point else QgsSymbolLayer.PropertyStrokeColor
    colour_field = "marker-color" if point else "stroke"
    ctx = QgsExpressionContext()
    ctx.appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    colours_wrong, sizes_wrong, n = [], [], 0
    for feature in layer.getFeatures():
        n += 1
        ctx.setFeature(feature)
        colour, _ = dd.valueAsColor(colour_key, ctx, QColor("black"))
        if colour.name().lower() != str(feature[colour_field]).lower():
            colours_wrong.append([colour.name(), str(feature[colour_field])])
        if point:
            size, _ = dd.valueAsDouble(QgsSymbolLayer.PropertySize, ctx, 0.0)
            want = SIZES_MM.get(str(feature["marker-size"]))
            if want is None or abs(size - want) > 1e-9:
                sizes_wrong.append([size, str(feature["marker-size"])])
    report = {
        "valid": True,
        "features": n,
        "renderer": renderer.type(),
        "symbol_layer": symbol_layer.layerType(),
        "data_defined": sorted(
            names[k].name() for k in dd.propertyKeys() if dd.property(k).isActive()
        ),
        "colours_wrong": colours_wrong,
        "sizes_wrong": sizes_wrong,
        "order_by": renderer.orderBy().dump() if renderer.orderByEnabled() else "",
        "pen_style": None if point else int(symbol_layer.penStyle()),  # 1 solid, 2 dash
    }
    return layer, report


def main() -> None:
    path, png = sys.argv[1], sys.argv[2]
    app = QgsApplication([], False)
    app.initQgis()
    layers, reports = [], {}
    for kind in KINDS:
        layer, reports[kind] = inspect(path, kind)
        if layer is not None:
            QgsProject.instance().addMapLayer(layer, False)
            layers.append(layer)
    painted = 0
    if layers:
        extent = QgsRectangle()
        for layer in layers:
            extent.combineExtentWith(layer.extent())
        extent.scale(1.1)
        settings = QgsMapSettings()
        settings.setLayers(layers)  # the first is drawn on top: events over tracks
        settings.setDestinationCrs(layers[0].crs())
        settings.setExtent(extent)
        settings.setOutputSize(QSize(900, 700))
        settings.setBackgroundColor(QColor("white"))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        image.save(png, "PNG")
        white = QColor("white").rgb()
        painted = sum(
            image.pixel(x, y) != white
            for x in range(0, image.width(), 3)
            for y in range(0, image.height(), 3)
        )
    print(
        json.dumps({"qgis": Qgis.QGIS_VERSION, "layers": reports, "painted": painted}), flush=True
    )
    # the project owns the layers, so they go before QGIS does (else a crash at exit)
    QgsProject.instance().removeAllMapLayers()
    app.exitQgis()


if __name__ == "__main__":
    main()
