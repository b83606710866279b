"""Scenario intensity from a published elliptical attenuation relation.

>>> rel = relation("cn2013_moderate")
>>> axis_intensity(rel.major, 6.5, np.array([0.0, 10.0, 50.0]))      # I along the long axis, km
>>> intensity_at(x, y, (x0, y0), strike=45, magnitude=6.5, rel=rel)   # metres in a metric CRS
>>> isoseismals((x0, y0), 45, 6.5, rel, degrees=range(6, 10))         # [(degree, ellipse polygon)]

Each relation is I = A + B·M + C·lg(R + R0) along the long (a) and short (b) axes. The isoseismal of
intensity I is the ellipse with semi-axes Ra(I), Rb(I); a site's intensity is the I whose ellipse
passes through it, found by a vectorised bisection (g(I) = (x/Ra)² + (y/Rb)² rises with I; scipy's
root finders solve one scalar at a time, so it is written out here).
"""
from collections import namedtuple

import numpy as np

from ..definitions import seismic as D
from ..errors import parameter_error

Axis = namedtuple("Axis", "A B C R0")
Relation = namedtuple("Relation", "key major minor sigma")


def relation(key=D.ATTENUATION_DEFAULT):
    if key not in D.ATTENUATION:
        raise parameter_error("ATTENUATION", f"未知的衰减关系 {key}", f"unknown attenuation relation {key}",
                              f"可选: {sorted(D.ATTENUATION)}", f"choose one of {sorted(D.ATTENUATION)}")
    c = D.ATTENUATION[key]
    return Relation(key, Axis(*c[0:4]), Axis(*c[4:8]), c[8])


def axis_intensity(axis, magnitude, r_km):
    """The published relation along one axis: I = A + B·M + C·lg(R + R0)."""
    return axis.A + axis.B * magnitude + axis.C * np.log10(np.asarray(r_km, float) + axis.R0)


def axis_radius(axis, magnitude, intensity):
    """Distance (km) along one axis at which the relation gives ``intensity`` (0 inside the epicentral
    area, where the relation would need a negative distance)."""
    lg = (np.asarray(intensity, float) - axis.A - axis.B * magnitude) / axis.C
    return np.maximum(np.power(10.0, lg) - axis.R0, 0.0)


def epicentral_intensity(magnitude, rel):
    """Intensity at R = 0: the smaller of the two axes' values (they agree to 1e-3 in every relation)."""
    return float(min(axis_intensity(rel.major, magnitude, 0.0), axis_intensity(rel.minor, magnitude, 0.0)))


def ellipse_coords(x, y, epicentre, strike):
    """Site coordinates in km along (u) and across (v) the long axis; ``strike`` in degrees clockwise
    from north, coordinates in metres of a metric CRS."""
    t = np.radians(strike)
    dx = (np.asarray(x, float) - epicentre[0]) / 1000.0
    dy = (np.asarray(y, float) - epicentre[1]) / 1000.0
    return dx * np.sin(t) + dy * np.cos(t), dx * np.cos(t) - dy * np.sin(t)


def intensity_at(x, y, epicentre, strike, magnitude, rel, iterations=40):
    """Intensity at each site (x, y) of a scenario earthquake (float64 array)."""
    u, v = ellipse_coords(x, y, epicentre, strike)
    u2, v2 = u * u, v * v
    hi_i = epicentral_intensity(magnitude, rel)
    lo = np.zeros(u.shape)
    hi = np.full(u.shape, hi_i)
    for _ in range(iterations):     # 40 halvings of [0, I0 ≈ 10]: below 1e-11 degree
        mid = 0.5 * (lo + hi)
        ra = axis_radius(rel.major, magnitude, mid)
        rb = axis_radius(rel.minor, magnitude, mid)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(ra > 0, u2 / np.maximum(ra * ra, 1e-300), np.where(u2 > 0, np.inf, 0.0)) + \
                np.where(rb > 0, v2 / np.maximum(rb * rb, 1e-300), np.where(v2 > 0, np.inf, 0.0))
        inside = g <= 1.0            # the site lies inside the isoseismal of 'mid': its intensity is higher
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    return 0.5 * (lo + hi)


def isoseismals(epicentre, strike, magnitude, rel, degrees, quad_segs=64):
    """[(degree, ellipse polygon)] for each degree whose isoseismal exists (below the epicentral
    intensity), in the metric CRS of ``epicentre``."""
    import shapely
    from shapely import affinity
    out = []
    i0 = epicentral_intensity(magnitude, rel)
    for d in degrees:
        if d > i0:
            continue
        ra = float(axis_radius(rel.major, magnitude, d)) * 1000.0
        rb = float(axis_radius(rel.minor, magnitude, d)) * 1000.0
        if ra <= 0 or rb <= 0:
            continue
        circle = shapely.Point(0, 0).buffer(1.0, quad_segs=quad_segs)
        # long axis along the strike: scale x by Rb (across), y by Ra (along north), then rotate clockwise
        ell = affinity.scale(circle, rb, ra, origin=(0, 0))
        ell = affinity.rotate(ell, -strike, origin=(0, 0))
        out.append((int(d), affinity.translate(ell, *epicentre)))
    return out


def strike_from_faults(epicentre, fault_geoms, max_km=50.0):
    """Azimuth (degrees from north, 0..180) of the fault segment nearest the epicentre, or None when
    no fault lies within ``max_km``."""
    import shapely
    geoms = np.asarray(fault_geoms, dtype=object)
    if not len(geoms):
        return None
    p = shapely.Point(*epicentre)
    dist = shapely.distance(geoms, p)
    k = int(np.argmin(dist))
    if not np.isfinite(dist[k]) or dist[k] > max_km * 1000:
        return None
    parts = shapely.get_parts(geoms[k])
    segs = []
    for part in parts:
        xy = shapely.get_coordinates(part)
        if len(xy) >= 2:
            segs.append(np.column_stack([xy[:-1], xy[1:]]))
    segs = np.vstack(segs)
    lines = shapely.linestrings(np.stack([segs[:, :2], segs[:, 2:]], axis=1))
    s = segs[int(np.argmin(shapely.distance(lines, p)))]
    az = np.degrees(np.arctan2(s[2] - s[0], s[3] - s[1])) % 180.0
    return float(az)
