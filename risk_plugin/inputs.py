"""Read and validate every input of a run before any work starts.

>>> layers = load_vectors([VectorInput("villages", "demo/villages.gpkg", "villages")])
>>> layers["villages"]          # normalised GeoDataFrame (canonical field names)

All problems across all inputs are collected and raised together as one
ValidationError, so a technician fixes everything in one round.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional

from .errors import InputError, Problem, ValidationError
from .io import read_vector
from .validation import check_aligned, check_raster, check_vector


@dataclass
class VectorInput:
    key: str                      # name the engine uses, e.g. "villages"
    source: Optional[str]         # path, optionally 'file.gpkg|layername=x'
    kind: str                     # schema in data_schemas/
    field_map: Dict[str, str] = field(default_factory=dict)  # canonical -> user field
    required: bool = True
    repair: bool = False
    label: Optional[str] = None   # layer name in messages (defaults to the file name)


@dataclass
class RasterInput:
    key: str
    source: Optional[str]
    kind: str
    required: bool = True
    metric: Optional[bool] = None
    label: Optional[str] = None


def _missing(label):
    return Problem(label, "未提供必需的输入图层", "required input layer not given",
                   "在参数中选择该图层", "choose this layer in the parameters")


def load_vectors(inputs, notes=None):
    """Read and check vector inputs; return {key: GeoDataFrame} (None for absent optional ones)."""
    out, problems = {}, []
    for spec in inputs:
        label = spec.label or spec.key
        if not spec.source:
            out[spec.key] = None
            if spec.required:
                problems.append(_missing(label))
            continue
        try:
            gdf = read_vector(spec.source)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        label = spec.label or gdf.attrs.get("name", spec.key)
        norm, probs, layer_notes = check_vector(gdf, spec.kind, label, spec.field_map, spec.repair)
        problems.extend(probs)
        if notes is not None:
            notes.extend(layer_notes)
        out[spec.key] = norm
    if problems:
        raise ValidationError(problems)
    return out


def check_rasters(inputs, aligned=()):
    """Check raster inputs; ``aligned`` lists keys that must share one grid."""
    problems, paths = [], {}
    for spec in inputs:
        label = spec.label or spec.key
        if not spec.source:
            if spec.required:
                problems.append(_missing(label))
            continue
        paths[spec.key] = (label, spec.source)
        problems.extend(check_raster(spec.source, spec.kind, label, spec.metric))
    group = [paths[k] for k in aligned if k in paths]
    if len(group) > 1 and not problems:
        problems.extend(check_aligned(group))
    if problems:
        raise ValidationError(problems)
    return {k: v[1] for k, v in paths.items()}
