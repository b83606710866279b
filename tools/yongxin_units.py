"""Build a slope-unit GeoPackage from the Yongxin County (永新县, Jiangxi) slope-unit tables published in
github.com/zhoukaisheng/Landslide-Susceptibility (data/yongxin/yinzi1d.csv: mean factor values per
slope unit; data/yongxin/yongxin.csv: landslide count `Count_` and presence `landslide` per unit).
The repository states no licence: download the two files yourself; nothing of them is shipped here.

    python tools/yongxin_units.py yinzi1d.csv yongxin.csv yongxin_units.gpkg [--max-fid 1109] [--round]

The tables have no geometry, only each unit's area (`Shape_Area`, m², 25 m cells). Every unit becomes
a square of exactly that area, on a regular grid in CGCS2000 / 3-degree Gauss-Krüger CM 114°E
(EPSG:4547, the zone of Yongxin). The positions are invented; riskmap:unitsusceptibility uses only the
area and the fields of a unit, so its weights, indices and AUCs are those of the published units.
A unit whose factors are all 0 (a 625 m² sliver with lithology -1) gets empty factor values (no data).

--max-fid keeps units 0..N only; --round rounds the factors as in docs/susceptibility-validation.md
(the subset measured there was transcribed with this rounding).
"""
import argparse

import numpy as np
import pandas as pd

FACTORS = {"altitude": ("alt", 1), "slope": ("slope", 2), "aspect": ("aspect", 1), "fault": ("fault", 0),
           "river": ("river", 1), "rainfall": ("rain", 1), "ndvi": ("ndvi", 3), "lithology_0": ("lith", None),
           "landuse_0": ("landuse", None)}


def build(factors_csv, labels_csv, out, max_fid=None, rounded=False):
    import geopandas as gpd
    import shapely
    f = pd.read_csv(factors_csv)
    f = f.rename(columns={f.columns[0]: "fid"}) if f.columns[0] not in ("fid", "FID") else f.rename(columns={"FID": "fid"})
    lab = pd.read_csv(labels_csv).rename(columns={"FID": "fid"})
    df = f.merge(lab[["fid", "Count_", "landslide"]], on="fid", how="left", validate="one_to_one")
    if max_fid is not None:
        df = df[df["fid"] <= max_fid]
    out_cols = {"su_id": df["fid"].to_numpy()}
    empty = (df[list(FACTORS)].fillna(0) == 0).all(axis=1).to_numpy()
    for src, (name, digits) in FACTORS.items():
        v = df[src].astype(float).to_numpy()
        if rounded and digits is not None:
            v = np.round(v, digits)
        v[empty] = np.nan
        out_cols[name] = v if digits is not None else pd.array(np.where(empty, pd.NA, v), dtype="Int64")
    out_cols["n_slides"] = df["Count_"].fillna(0).astype(int).to_numpy()
    out_cols["landslide"] = df["landslide"].fillna(0).astype(int).to_numpy()
    area = df["Shape_Area"].astype(float).to_numpy()
    side = np.sqrt(area)
    n = len(df)
    cols = int(np.ceil(np.sqrt(n)))
    pitch = float(side.max()) + 100.0
    r, c = np.divmod(np.arange(n), cols)
    x0, y0 = 450000.0 + c * pitch, 2950000.0 + r * pitch
    geoms = shapely.box(x0, y0, x0 + side, y0 + side)
    gdf = gpd.GeoDataFrame(out_cols, geometry=geoms, crs="EPSG:4547")
    gdf.to_file(out, engine="pyogrio")
    return gdf


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("factors_csv")
    p.add_argument("labels_csv")
    p.add_argument("out")
    p.add_argument("--max-fid", type=int)
    p.add_argument("--round", action="store_true")
    a = p.parse_args(argv)
    gdf = build(a.factors_csv, a.labels_csv, a.out, a.max_fid, a.round)
    print(f"{len(gdf)} units, {int((gdf['landslide'] == 1).sum())} with landslides, "
          f"{int(gdf['n_slides'].sum())} landslides -> {a.out}")


if __name__ == "__main__":
    main()
