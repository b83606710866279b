"""A connected road network that follows the valleys: a spanning tree (plus a few
loops) over settlement centres, each link routed as a least-cost path on the terrain."""
import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay


# Vertex spacing of the generated roads (m). Surveyed and OSM road lines carry a vertex every 10–50 m
# (Jakarta's OSM roads, ../shared/data: a graph node per 94 m of road, junctions included).
ROAD_VERTEX_M = 30.0


def _grid_graph(cost):
    """8-neighbour graph whose edge weight is length × mean cost of the two cells."""
    h, w = cost.shape
    idx = np.arange(h * w).reshape(h, w)
    a, b, wt = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        r0, r1 = max(0, -dr), h - max(0, dr)
        c0, c1 = max(0, -dc), w - max(0, dc)
        src = idx[r0:r1, c0:c1]
        dst = idx[r0 + dr:r1 + dr, c0 + dc:c1 + dc]
        length = np.hypot(dr, dc)
        a.append(src.ravel()); b.append(dst.ravel())
        wt.append((length * (cost[r0:r1, c0:c1] + cost[r0 + dr:r1 + dr, c0 + dc:c1 + dc]) / 2).ravel())
    a, b, wt = np.concatenate(a), np.concatenate(b), np.concatenate(wt)
    return coo_matrix((wt, (a, b)), shape=(h * w, h * w)).tocsr()


def road_network(z, river, transform, nodes_xy, seats_mask, rng, crs, extra_loops=0.15, progress=None):
    """Road lines (道路等级, 名称) joining every node in ``nodes_xy`` into one network."""
    h, w = z.shape
    cell = transform.a
    gy, gx = np.gradient(z.astype(np.float64), cell)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    cost = 1.0 + (slope / 6.0) ** 2 + 25.0 * ndimage.binary_dilation(river)
    graph = _grid_graph(cost)
    inv = ~transform
    col, row = inv * (nodes_xy[:, 0], nodes_xy[:, 1])
    node_cell = np.clip(row.astype(int), 0, h - 1) * w + np.clip(col.astype(int), 0, w - 1)
    node_cell, first = np.unique(node_cell, return_index=True)
    seats = seats_mask[first]
    # spanning tree over the Delaunay triangulation of the nodes, plus the shortest extra links
    pts = np.column_stack([node_cell % w, node_cell // w]).astype(float)
    if len(pts) >= 3:
        tri = Delaunay(pts + rng.uniform(-1e-3, 1e-3, pts.shape))
        e = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]])
    else:
        e = np.array([[0, 1]]) if len(pts) == 2 else np.zeros((0, 2), int)
    e = np.unique(np.sort(e, axis=1), axis=0)
    length = np.hypot(*(pts[e[:, 0]] - pts[e[:, 1]]).T)
    n = len(pts)
    mst = minimum_spanning_tree(coo_matrix((length + 1e-9, (e[:, 0], e[:, 1])), shape=(n, n))).tocoo()
    links = list(zip(mst.row, mst.col))
    in_tree = {tuple(sorted(l)) for l in links}
    spare = [i for i in np.argsort(length) if tuple(e[i]) not in in_tree]
    links += [tuple(e[i]) for i in spare[:int(extra_loops * n)]]
    links = np.array(links, dtype=int).reshape(-1, 2)
    geoms, klass = [], []
    sources = np.unique(links[:, 0])
    for start in range(0, sources.size, 64):  # batches of Dijkstra runs; path tracing is per link
        if progress is not None:
            progress.set(100.0 * start / sources.size)
        batch = sources[start:start + 64]
        limit = 4.0 * max(length.max(), 1.0) * cost.max()
        _, pred = dijkstra(graph, directed=False, indices=node_cell[batch], return_predecessors=True, limit=limit)
        for bi, s in enumerate(batch):
            for t in links[links[:, 0] == s, 1]:
                path, cur = [], node_cell[t]
                while cur >= 0 and cur != node_cell[s]:  # walk predecessors back to the source
                    path.append(cur)
                    cur = pred[bi, cur]
                if cur < 0:
                    continue
                path.append(node_cell[s])
                r, c = np.divmod(np.array(path[::-1]), w)
                x, y = transform * (c + 0.5, r + 0.5)
                geoms.append(shapely.simplify(shapely.linestrings(np.column_stack([x, y])), cell * 0.3))
                klass.append("县道" if seats[s] and seats[t] else ("乡道" if seats[s] or seats[t] else "村道"))
    # village lanes: straight spokes from every settlement node into its houses, sharing the node
    r, c = np.divmod(node_cell[~seats], w)
    nx, ny = transform * (c + 0.5, r + 0.5)
    k = 5
    ang = rng.uniform(0, 2 * np.pi, (nx.size, 1)) + np.linspace(0, 2 * np.pi, k, endpoint=False)[None, :]
    length = rng.uniform(250, 550, ang.shape)
    x0, y0 = np.repeat(nx, k), np.repeat(ny, k)
    x1, y1 = x0 + (length * np.cos(ang)).ravel(), y0 + (length * np.sin(ang)).ravel()
    lanes = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
    left, top = transform.c, transform.f
    lanes = shapely.clip_by_rect(lanes, left, top + transform.e * h, left + transform.a * w, top)
    lanes = lanes[~shapely.is_empty(lanes)]
    geoms += list(lanes)
    klass += ["村道"] * len(lanes)
    names = [f"{k}{i + 1:03d}" for i, k in enumerate(klass)]
    # a vertex every ROAD_VERTEX_M metres, as digitised roads carry (the routed lines bend only at the
    # routing grid's cells, a vertex per ~400 m): the same lines, the node density of real road data
    geoms = shapely.segmentize(np.asarray(geoms, dtype=object), ROAD_VERTEX_M)
    return gpd.GeoDataFrame({"道路等级": klass, "名称": names}, geometry=geoms, crs=crs)
