"""A vector output in parts: ``<name>.vrt`` beside a folder ``<name>_parts/`` of GeoPackages, one layer.

QGIS, GDAL and pyogrio open the .vrt as one layer (GDAL's union layer, OGRVRTUnionLayer: the parts'
features in the parts' order, FIDs renumbered 1 … n). Each part is a complete GeoPackage with its
own R-tree, written where it is made: on the Dask workers, in parallel. One GeoPackage file takes
about 70 k features/s whatever writes it (BENCHMARKS.md, four-colour join), so for a province a
single file is the serial end of the run; the parts are not. The .vrt carries the layer's feature
count, extent and CRS, so QGIS opens it without opening every part.

Written atomically: the folder and the .vrt are made in a temporary folder and move into place
together (:func:`risk_plugin.outputs.atomic_path`; inside a run's transaction an older output is
kept aside until the run succeeds).
"""
import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path

from .outputs import atomic_path, output_transaction

SUFFIX = ".vrt"
PLAIN_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


def is_parts_output(path):
    """True for an output path that asks for parts (``….vrt``)."""
    return path is not None and str(path).split("|")[0].lower().endswith(SUFFIX)


def folder_name(final):
    return Path(final).stem + "_parts"


class Parts:
    """The folder the parts of one output are written into (``path(i)``: part i's GeoPackage)."""

    def __init__(self, folder, layer):
        self.folder, self.layer = Path(folder), layer

    def path(self, i):
        return str(self.folder / f"part_{int(i):05d}.gpkg")

    def written(self):
        return sorted(self.folder.glob("part_*.gpkg"))


@contextlib.contextmanager
def parts_output(final):
    """Yield :class:`Parts` for ``final`` (a .vrt); on success write the .vrt over the parts written
    and move both into place. At least one part must have been written (an empty layer is one empty part)."""
    final = Path(final)
    with output_transaction(), atomic_path(final) as tmp:    # (a transaction sets an older folder aside)
        folder = Path(tmp).parent / folder_name(final)
        folder.mkdir()
        parts = Parts(folder, final.stem)
        yield parts
        write_union_vrt(tmp, parts.written(), parts.layer, folder.name)


def write_union_vrt(path, parts, layer, folder):
    """The OGR union .vrt of GeoPackage ``parts`` (layer ``layer``, in folder ``folder`` beside ``path``)."""
    import pyogrio
    if not parts:
        raise RuntimeError(f"no part was written for {path}")
    infos = [pyogrio.read_info(str(p), layer=layer, force_feature_count=True, force_total_bounds=True) for p in parts]
    root = ET.Element("OGRVRTDataSource")
    union = ET.SubElement(root, "OGRVRTUnionLayer", name=layer)
    for p in parts:
        src = ET.SubElement(union, "OGRVRTLayer", name=p.stem)
        ET.SubElement(src, "SrcDataSource", relativeToVRT="1").text = f"{folder}/{p.name}"
        ET.SubElement(src, "SrcLayer").text = layer
    ET.SubElement(union, "FieldStrategy").text = "FirstLayer"
    types = {i["geometry_type"] for i in infos if i["features"]} or {infos[0]["geometry_type"]}
    if len(types) == 1 and next(iter(types)) in PLAIN_TYPES:    # else GDAL's own (mixed: unknown)
        ET.SubElement(union, "GeometryType").text = "wkb" + next(iter(types))
    if infos[0]["crs"]:
        ET.SubElement(union, "LayerSRS").text = infos[0]["crs"]
    ET.SubElement(union, "FeatureCount").text = str(sum(int(i["features"]) for i in infos))
    boxes = [i["total_bounds"] for i in infos if i["features"] and i["total_bounds"] is not None]
    if boxes:
        for k, (tag, f) in enumerate((("ExtentXMin", min), ("ExtentYMin", min), ("ExtentXMax", max),
                                      ("ExtentYMax", max))):
            ET.SubElement(union, tag).text = repr(float(f(b[k] for b in boxes)))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
