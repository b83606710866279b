"""The shelters job's per-demand output layer built and written by the workers, tile by tile: on Dask the
driver never holds the whole-county output frame.

The demand layer was read by tiles (:mod:`.demand`, ``layers.PartitionedLayer``'s plan); the driver kept
which tile each demand unit came from. For the output, each task reads its tile again (the same bbox read
and first-vertex rule), takes the point on surface as ``load_demand`` does and gets from the driver only
the per-demand results of its own features (status, snap, component, nearest shelter, served …). It builds
its rows with ``shelter_run.demand_frame``, the function that builds the one-process frame, reprojects them
to the output CRS and writes a part GeoPackage in a temporary folder beside the output (on a cluster, that
folder must be on storage the workers share, like the inputs). The driver appends the parts in tile order
as they arrive (GDAL's VectorTranslate, streamed: the part's field types; pyogrio through one part's frame
without ``osgeo``), inside ``atomic_path``: the output appears complete, with the style hooks of
``on_output`` run on it, or not at all. On cancel or error the parts in flight finish (``map_stream``
drain) and the folder is removed, so no part outlives the run.

The same attributes and geometries as one process; **the row order differs**: tile by tile, FID order within
a tile (compare sorted by ``source_fid``). Not written this way (the workers build the rows, the driver joins
them into the whole frame and writes it, as before):
an output other than a GeoPackage (Shapefile, GeoJSON … have no reliable append), and parts whose geometry
types or Z differ (the one-process writer's type inference is over the whole layer). An output ``….vrt``
(:mod:`risk_plugin.vector_parts`) is not joined at all: the workers' parts stay, under the union .vrt.

``result["frames"]["demand"]`` is lazy on this path (:class:`LazyFrames`): reading it builds the whole
frame from the workers' parts, in the one-process order; the CLI and ``numbers()`` never read it.
"""
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .. import notices
from .reach import IN_FLIGHT

class _NotTiled(Exception):
    """This output is written from the whole frame (module docstring)."""


PER_DEMAND = ("people", "unit", "township", "status", "snap_m", "component", "within", "nearest", "nearest_m",
              "served", "shelter", "shelter_m")


# ---------------------------------------------------------------------------------------------- worker side
def _tile_demand(task, spec, fid):
    """The tile's demand units as ``load_demand`` gives them (points, people, name, source_fid), in FID order."""
    import geopandas as gpd
    from ..shelter_run import demand_points
    from ..validation import check_vector
    from . import layers as L
    with notices.collecting(lambda _: None):         # the check pass has already told these
        gdf = L._read_tile(task)
        label = spec.label or gdf.attrs.get("name", spec.key)
        norm, probs, _ = check_vector(gdf, spec.kind, label, spec.field_map, spec.repair)
    own = np.asarray(norm.index, np.int64)
    if probs or not np.array_equal(np.sort(own), fid):
        raise RuntimeError("需求图层在运行中被修改 / the demand layer changed during the run")
    o = np.argsort(own, kind="stable")
    geom, people, names = demand_points(norm)
    return gpd.GeoDataFrame({"people": people[o], "name": names[o], "source_fid": own[o]}, geometry=geom[o],
                            crs=norm.crs)


def _part(piece):
    """Worker: the tile's output rows; written to ``path`` in ``out_crs`` (returns (rows, geometry kinds)),
    or returned as a frame in the working CRS (``path`` None)."""
    from ..crs import to_working
    from ..io import write_vector
    from ..shelter_run import demand_frame
    task, spec, fid, values, sname, work, out_crs, path, layer = piece
    out = demand_frame(to_working(_tile_demand(task, spec, fid), work), work, values, sname)
    if path is None:
        return out
    out = to_working(out, out_crs) if out_crs else out
    if not Path(path).parent.is_dir():
        return 0, set()                                # the driver gave up (cancel, error): write nothing
    write_vector(out, path, layer=layer)
    kinds = {(str(t), bool(z)) for t, z in zip(out.geom_type, out.has_z)}
    return len(out), kinds


# ---------------------------------------------------------------------------------------------- driver side
class TiledDemand:
    """The per-demand output of a tiled demand layer: the driver's per-demand values, in FID order, and each
    unit's tile; rows are built by the workers."""

    def __init__(self, dispatcher, layer, spec, tile, fid, values, sname, work, fallback):
        self.dispatcher, self.layer, self.spec, self.work, self.sname = dispatcher, layer, spec, work, sname
        self.fid = fid
        self.values = {k: values[k] for k in PER_DEMAND}
        self.fallback = fallback                       # builds the whole frame on the driver
        order = np.argsort(tile, kind="stable")        # per tile, its units in FID order
        self.order = order
        self.bounds = np.r_[0, np.cumsum(np.bincount(tile, minlength=len(layer.tiles)))]

    def __len__(self):
        return len(self.order)

    def _pieces(self, out_crs, folder, name):
        tasks, i = self.layer._tasks(), 0
        for k, task in enumerate(tasks):
            idx = self.order[self.bounds[k]:self.bounds[k + 1]]
            if not len(idx):
                continue
            path = None if folder is None else str(Path(folder) / f"part_{i:05d}.gpkg")     # i-th piece
            i += 1
            yield (task, self.spec, self.fid[idx], {c: v[idx] for c, v in self.values.items()}, self.sname, self.work,
                   out_crs, path, name)

    def _n_pieces(self):
        return int(np.count_nonzero(np.diff(self.bounds)))

    def frame(self):
        """The whole frame on the driver, in the one-process order (for ``result['frames']['demand']``)."""
        import pandas as pd
        d = self.dispatcher
        parts = d.map_stream("demand_frame", _part, self._pieces(None, None, None), self._n_pieces(),
                             IN_FLIGHT * d.n_workers)
        idx = np.concatenate([self.order[self.bounds[k]:self.bounds[k + 1]] for k in range(len(self.layer.tiles))])
        out = pd.concat(parts, ignore_index=True) if parts else self.fallback()
        if parts:
            out.index = idx
            out = out.sort_index()
            out.index = pd.RangeIndex(len(out))
        return out


def write_tiled(demand, path, out_crs, progress=None):
    """Write ``demand`` (a TiledDemand) to ``path``: parts by the workers, appended by the driver (module
    docstring). Returns the path, or None when this output is not written this way."""
    import geopandas as gpd
    from ..crs import to_working
    from ..io import VECTOR_DRIVERS
    from ..vector_parts import is_parts_output
    final = Path(path)
    if is_parts_output(final) and len(demand):
        return _keep_parts(demand, final, out_crs, progress)
    if VECTOR_DRIVERS.get(final.suffix.lower(), "GPKG") != "GPKG" or not len(demand):
        return None
    empty = gpd.GeoDataFrame(geometry=[], crs=demand.work)
    crs = (to_working(empty, out_crs) if out_crs else empty).crs      # the CRS write_demand's frame has
    try:
        return _join(demand, final, out_crs, crs, progress)
    except _NotTiled:
        return None


def _join(demand, final, out_crs, crs, progress):
    """Parts appended in tile order as they arrive (the driver's appends overlap the workers' writes)."""
    from ..io import atomic_path
    d = demand.dispatcher
    with atomic_path(final) as tmp:
        folder = Path(tempfile.mkdtemp(prefix=".riskmap-parts-", dir=final.parent))
        ready, done, kind = {}, [0], []

        def append(i, result):
            ready[i] = result
            while done[0] in ready:                    # the next part in tile order is there
                n, kinds = ready.pop(done[0])
                kind.extend([] if kind else sorted(kinds))
                if len(kinds) != 1 or kinds != {kind[0]}:
                    raise _NotTiled                    # mixed types or Z: the whole frame decides (caller)
                t, z = kind[0]
                _append(str(folder / f"part_{done[0]:05d}.gpkg"), tmp, final.stem, crs, f"{t} Z" if z else t,
                        first=done[0] == 0)
                (folder / f"part_{done[0]:05d}.gpkg").unlink()
                done[0] += 1
        try:
            d.map_stream("demand_write", _part, demand._pieces(out_crs, folder, final.stem), demand._n_pieces(),
                         IN_FLIGHT * d.n_workers, progress=progress, on_result=append, drain=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return str(final)


def _keep_parts(demand, final, out_crs, progress):
    """A ``….vrt`` output (risk_plugin.vector_parts): the workers' parts are the output, nothing is appended."""
    from ..vector_parts import parts_output
    d = demand.dispatcher
    with parts_output(final) as parts:
        d.map_stream("demand_write", _part, demand._pieces(out_crs, parts.folder, parts.layer), demand._n_pieces(),
                     IN_FLIGHT * d.n_workers, progress=progress, keep=False, drain=True)
    return str(final)


def _append(part, tmp, layer, crs, geometry_type, first):
    """Copy a part's features into ``tmp`` (the first creates the layer, with the part's field types). GDAL's
    VectorTranslate (osgeo, Debian's python3-gdal) streams them; without it, pyogrio through a frame."""
    try:
        from osgeo import gdal
    except ImportError:
        gdal = None
    if gdal is None:
        import pyogrio
        rows = pyogrio.read_dataframe(part, layer=layer).set_crs(crs, allow_override=True)
        rows.to_file(tmp, driver="GPKG", engine="pyogrio", layer=layer, index=False, append=not first,
                     geometry_type=geometry_type)
        return
    old = gdal.GetConfigOption("OGR_SQLITE_SYNCHRONOUS")
    gdal.SetConfigOption("OGR_SQLITE_SYNCHRONOUS", "OFF")      # a temporary file: atomic_path keeps it or not
    try:
        kw = {"format": "GPKG"} if first else {"accessMode": "append"}
        if gdal.VectorTranslate(tmp, part, layerName=layer, **kw) is None:
            raise OSError(f"GDAL VectorTranslate {part} -> {tmp}: {gdal.GetLastErrorMsg()}")
    finally:
        gdal.SetConfigOption("OGR_SQLITE_SYNCHRONOUS", old)


class LazyFrames(dict):
    """``result['frames']`` whose TiledDemand entries become frames when read (``[]`` only)."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if isinstance(value, TiledDemand):
            value = value.frame()
            self[key] = value
        return value


def make_demand_output(dispatcher, state, frame_original, write_original):
    """``shelter_run.demand_frame`` and ``write_demand`` for a demand layer read by tiles (``state``, filled by
    :func:`.demand.make_load_demand`): a TiledDemand instead of the frame, written by the workers."""

    def demand_frame(dem_w, work, values, sname):
        if "layer" not in state or len(state["tile"]) != len(dem_w):
            return frame_original(dem_w, work, values, sname)
        return TiledDemand(dispatcher, state["layer"], state["spec"], state["tile"], state["fid"], values, sname,
                           work, fallback=lambda: frame_original(dem_w, work, values, sname))

    def write_demand(dem_out, path, out_crs, progress=None):
        if isinstance(dem_out, TiledDemand):
            done = write_tiled(dem_out, path, out_crs, progress)
            if done is not None:
                return done
            dem_out = dem_out.frame()
        return write_original(dem_out, path, out_crs)

    return demand_frame, write_demand
