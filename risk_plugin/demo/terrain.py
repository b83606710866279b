"""Believable mountain-valley terrain for the demo county (Wuling mountains style)."""
import numpy as np
from scipy import ndimage


def fractal_surface(shape, rng, beta=3.2):
    """Gaussian random field with a power-law spectrum (1/f^beta), scaled to [0, 1].

    Spectral synthesis (Saupe 1988): the usual model of natural relief.
    """
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0)
    amp[0, 0] = 0.0
    phase = rng.uniform(0, 2 * np.pi, amp.shape)
    field = np.fft.irfft2(amp * np.exp(1j * phase), s=(h, w))
    field -= field.min()
    return field / field.max()


def drainage_tree(k, size_m, rng):
    """A random dendritic river network: the minimum spanning tree of a jittered k×k node grid
    with random 8-neighbour weights, rooted at an outlet on the south-east edge.

    Returns node coordinates (x from west, y from north, metres), parent index (root: itself),
    along-river distance to the outlet and upstream node count."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
    from ..hydrology import flow_accumulation
    step = size_m / k
    gy, gx = np.mgrid[0:k, 0:k]
    x = (gx + 0.5 + rng.uniform(-0.3, 0.3, gx.shape)) * step
    y = (gy + 0.5 + rng.uniform(-0.3, 0.3, gy.shape)) * step
    idx = np.arange(k * k).reshape(k, k)
    a, b = [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        r0, r1, c0, c1 = 0, k - dr, max(0, -dc), k - max(0, dc)
        a.append(idx[r0:r1, c0:c1].ravel())
        b.append(idx[r0 + dr:r1 + dr, c0 + dc:c1 + dc].ravel())
    a, b = np.concatenate(a), np.concatenate(b)
    length = np.hypot(x.ravel()[a] - x.ravel()[b], y.ravel()[a] - y.ravel()[b])
    w = length * rng.uniform(0.5, 1.5, a.size)
    tree = minimum_spanning_tree(coo_matrix((w, (a, b)), shape=(k * k, k * k)))
    tree = tree.tocoo()
    tree_len = coo_matrix((np.hypot(x.ravel()[tree.row] - x.ravel()[tree.col], y.ravel()[tree.row] - y.ravel()[tree.col]),
                           (tree.row, tree.col)), shape=tree.shape).tocsr()
    root = idx[k - 1, int(k * 0.75)]
    dist, pred = dijkstra(tree_len, directed=False, indices=root, return_predecessors=True)
    parent = np.where(pred < 0, np.arange(k * k), pred)
    acc = flow_accumulation(parent)
    return x.ravel(), y.ravel(), parent, dist, acc


def synth_dem(shape_coarse, zoom, rng, relief=1250.0, base=300.0, spacing_m=1300.0, cell=30.0):
    """DEM on the coarse (hydrology) grid and on the fine grid.

    Valleys follow a random dendritic network (drainage_tree) whose floors rise upstream;
    hillslopes rise from the nearest valley with the distance to it, roughened by a fractal
    surface. This gives mountain-valley terrain without large closed depressions.
    """
    hc, wc = shape_coarse
    size = wc * cell
    k = max(4, int(round(size / spacing_m)))
    nx, ny, parent, along, acc = drainage_tree(k, size, rng)
    # densify every tree edge into points carrying the interpolated floor elevation and upstream size
    z_node = base + 0.42 * relief * (along / along.max()) ** 0.8
    child = np.flatnonzero(parent != np.arange(parent.size))
    t = np.linspace(0, 1, 40)[None, :]
    px = nx[child, None] + (nx[parent[child], None] - nx[child, None]) * t
    py = ny[child, None] + (ny[parent[child], None] - ny[child, None]) * t
    pz = z_node[child, None] + (z_node[parent[child], None] - z_node[child, None]) * t
    pa = np.broadcast_to(acc[child, None], pz.shape)
    col = np.clip((px / cell).astype(int), 0, wc - 1).ravel()
    row = np.clip((py / cell).astype(int), 0, hc - 1).ravel()
    floor = np.full(hc * wc, np.inf)
    np.minimum.at(floor, row * wc + col, pz.ravel())
    upstream = np.zeros(hc * wc)
    np.maximum.at(upstream, row * wc + col, pa.ravel())
    river = np.isfinite(floor).reshape(hc, wc)
    d, (ri, ci) = ndimage.distance_transform_edt(~river, sampling=cell, return_indices=True)
    z_floor = floor.reshape(hc, wc)[ri, ci]
    width = 12.0 * np.sqrt(upstream.reshape(hc, wc)[ri, ci])      # wider floors along big rivers
    d_eff = np.clip(d - width, 0, None)
    rough = fractal_surface((hc, wc), rng)
    hill = 0.58 * relief * (0.45 + 0.55 * rough) * (1.0 - np.exp(-d_eff / (0.55 * spacing_m)))
    noise = fractal_surface((hc, wc), rng, beta=2.6) - 0.5
    z = z_floor + hill + 70.0 * noise * (1.0 - np.exp(-d_eff / 150.0))
    coarse = z.astype(np.float32)
    if zoom == 1:
        return coarse, coarse.copy()
    fine = ndimage.zoom(coarse, zoom, order=1, grid_mode=True, mode="nearest")
    detail = ndimage.gaussian_filter(rng.standard_normal(fine.shape).astype(np.float32), 2.0)
    fine += 3.0 * detail / (detail.std() + 1e-9)
    return coarse, fine.astype(np.float32)


def slope_degrees(z, cell_size):
    gy, gx = np.gradient(z.astype(np.float64), cell_size)
    return np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)
