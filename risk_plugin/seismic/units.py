"""Reporting units (townships, villages) for the earthquake algorithms: read, validate, label cells.

>>> gdfs, labels = load_units([UnitSpec("townships.gpkg"), UnitSpec("villages.gpkg")])
>>> lab = unit_labels_block(geoms, tree, block_transform, shape, bounds)   # 1..n per cell, 0 outside
"""
import numpy as np

from ..definitions.exposure import UNIT_KIND
from ..exposure import UnitSpec
from ..inputs import VectorInput, load_vectors
from ..io import layer_name


def as_specs(units):
    return [u if isinstance(u, UnitSpec) else UnitSpec(u) for u in (units or [])]


def load_units(units, repair=False):
    """([GeoDataFrame with name, code, parent_code], [label]) for each level, validated together."""
    specs = as_specs(units)
    vin = []
    for i, u in enumerate(specs):
        fmap = {"name": u.name_field, "code": u.code_field, "parent_code": u.parent_field}
        vin.append(VectorInput(f"units{i}", u.source, UNIT_KIND, {k: v for k, v in fmap.items() if v},
                               repair=repair, label=u.label or layer_name(u.source)))
    layers = load_vectors(vin) if vin else {}
    gdfs = [layers[f"units{i}"].reset_index(drop=True) for i in range(len(specs))]
    labels = [u.label or g.attrs.get("name", f"units{i + 1}") for i, (u, g) in enumerate(zip(specs, gdfs))]
    return gdfs, labels


def unit_labels_block(geoms, tree, transform, shape, bounds):
    """Unit number (1..n; 0 = outside every unit) of each cell centre of a block."""
    from ..composite import _unit_labels
    return _unit_labels(geoms, tree, transform, shape, bounds)
