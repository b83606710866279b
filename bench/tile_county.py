"""A county n² times its area: a cached bench county repeated 2 × 2 (or 3 × 3), for the scaling runs.

Generating a 600 × 600 km county takes hours here (the 300 km one took 36 min); repeating one that is
already there takes minutes and gives the same densities. Rasters become VRTs that read the same file
four times, side by side (no copy); vector layers are copied four times, shifted by the county's width
or height, with the administrative codes made unique per copy (the first two digits become 5 + copy
number, in the codes and in the parent codes). Roads of the copies are not joined: each copy is its own
road network, which changes nothing for the jobs' memory and time per feature.

    python -m bench.tile_county /tmp/i14-bench/county_300km_30m /tmp/i14-bench/county_600km_tiled \
        --hazard /tmp/i14-bench/driver_memory/300km/flood_hazard.tif

A county tiled before (with its ``paths.json``, e.g. the 300 km 3 × 3 county) can be tiled again (2 × 2: 600 km);
its rasters are then VRTs of VRTs and the copy number goes in front of the codes.

Writes ``paths.json`` beside the layers (the layout of ``bench.common.county``), and the hazard VRT as
``flood_hazard.tif.vrt`` when ``--hazard`` is given.
"""
import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

RASTERS = ("dem", "population", "flood_depth_100")
VECTORS = ("townships", "villages", "buildings", "facilities", "shelters", "roads", "landslide_inventory")
CODE_FIELDS = ("行政区划代码", "上级代码")
CHUNK = 500_000


def _offsets(width, height, n=2):
    """(copy number, dx, dy) of the n × n copies, row by row from the original (north-west)."""
    return [(i * n + j, j * width, -i * height) for i in range(n) for j in range(n)]


def mosaic_vrt(src, dst, n=2):
    """A VRT of ``src`` repeated n × n (each band reads the same file n² times)."""
    import rasterio
    with rasterio.open(src) as r:
        w, h, t = r.width, r.height, r.transform
        dtype = {"float32": "Float32", "float64": "Float64", "uint8": "Byte", "int16": "Int16",
                 "uint16": "UInt16", "int32": "Int32"}[r.dtypes[0]]
        nodata = r.nodata
        crs_wkt = r.crs.to_wkt()
        bx, by = r.block_shapes[0]
    srcs = []
    for row, col in itertools.product(range(n), range(n)):
        srcs.append(f"""    <ComplexSource>
      <SourceFilename relativeToVRT="0">{Path(src).resolve()}</SourceFilename><SourceBand>1</SourceBand>
      <SourceProperties RasterXSize="{w}" RasterYSize="{h}" DataType="{dtype}" BlockXSize="{by}" BlockYSize="{bx}"/>
      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/><DstRect xOff="{col * w}" yOff="{row * h}" xSize="{w}" ySize="{h}"/>
      {f'<NODATA>{nodata:g}</NODATA>' if nodata is not None else ''}
    </ComplexSource>""")
    nd = f"<NoDataValue>{nodata:g}</NoDataValue>" if nodata is not None else ""
    xml = f"""<VRTDataset rasterXSize="{n * w}" rasterYSize="{n * h}">
  <SRS>{crs_wkt.replace('&', '&amp;').replace('<', '&lt;').replace('"', '&quot;')}</SRS>
  <GeoTransform>{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}</GeoTransform>
  <VRTRasterBand dataType="{dtype}" band="1">{nd}
{chr(10).join(srcs)}
  </VRTRasterBand>
</VRTDataset>
"""
    Path(dst).write_text(xml, encoding="utf-8")
    return str(dst)


def _recode(values, copy, nested=False):
    """Codes unique per copy: the first two digits become 5 + copy; of an already tiled county (``nested``)
    the copy number is put in front instead (the first two digits already tell its copies apart)."""
    s = np.asarray(values, dtype=object)
    ok = np.array([isinstance(v, str) and len(v) > 2 for v in s])
    out = s.copy()
    out[ok] = np.array([f"{copy}{v}" if nested else f"5{copy}{v[2:]}" for v in s[ok]], dtype=object)
    return out


def tile_vector(src, dst, offsets, nested=False):
    """``src`` copied once per offset, shifted, codes made unique; read and written in chunks."""
    import pyogrio
    import shapely
    info = pyogrio.read_info(src)
    n = info["features"]
    first = True
    for copy, dx, dy in offsets:
        for start in range(0, max(n, 1), CHUNK):
            gdf = pyogrio.read_dataframe(src, skip_features=start, max_features=CHUNK)
            if not len(gdf):
                continue
            gdf.geometry = shapely.transform(gdf.geometry.values, lambda xy, dx=dx, dy=dy: xy + (dx, dy))
            for f in CODE_FIELDS:
                if f in gdf.columns and copy:
                    gdf[f] = _recode(gdf[f].to_numpy(object), copy, nested)
            pyogrio.write_dataframe(gdf, dst, layer=Path(dst).stem, append=not first)
            first = False
    return str(dst)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--hazard")
    ap.add_argument("--n", type=int, default=2, help="copies per side (2 or 3)")
    a = ap.parse_args(argv)
    if not 2 <= a.n <= 3:
        ap.error("--n: 2 or 3 (the copy number goes into one digit of the codes)")
    import rasterio
    src, dst = Path(a.src), Path(a.dst)
    dst.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    nested = (src / "paths.json").exists()          # a county tiled before: its rasters are VRTs

    def raster(k):
        return src / (f"{k}.tif.vrt" if nested else f"{k}.tif")
    with rasterio.open(raster("dem")) as r:
        b = r.bounds
    offsets = _offsets(b.right - b.left, b.top - b.bottom, a.n)
    paths = {"dir": str(dst)}
    for k in RASTERS:
        paths[k] = mosaic_vrt(raster(k), dst / f"{k}.tif.vrt", a.n)
    if a.hazard:
        paths["flood_hazard"] = mosaic_vrt(a.hazard, dst / "flood_hazard.tif.vrt", a.n)
    for k in VECTORS:
        out = dst / f"{k}.gpkg"
        if out.exists():
            out.unlink()
        paths[k] = tile_vector(str(src / f"{k}.gpkg"), str(out), offsets, nested)
        print(k, round(time.time() - t0, 1), flush=True)
    paths["generate_seconds"] = round(time.time() - t0, 1)
    (dst / "paths.json").write_text(json.dumps(paths))
    print(json.dumps(paths))


if __name__ == "__main__":
    main()
