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


def synth_dem(shape_coarse, zoom, rng, relief=1000.0, base=300.0):
    """DEM on a coarse grid (for hydrology) and on the fine grid.

    Relief is a fractal surface sharpened into ridges and flattened in valleys,
    tilted towards the south-east so the main rivers leave the county there.
    """
    hc, wc = shape_coarse
    field = fractal_surface((hc, wc), rng)
    rows, cols = np.mgrid[0:hc, 0:wc]
    tilt = 0.35 * (1.0 - (rows / hc + (wc - cols) / wc) / 2.0)
    z = (0.75 * field + tilt)
    z = (z - z.min()) / (z.max() - z.min())
    z = base + relief * z ** 1.4          # broad valley floors, steep upper slopes
    coarse = z.astype(np.float32)
    if zoom == 1:
        return coarse, coarse.copy()
    fine = ndimage.zoom(coarse, zoom, order=1, grid_mode=True, mode="nearest")
    detail = ndimage.gaussian_filter(rng.standard_normal(fine.shape).astype(np.float32), 2.0)
    fine += 6.0 * detail / (detail.std() + 1e-9)
    return coarse, fine.astype(np.float32)


def slope_degrees(z, cell_size):
    gy, gx = np.gradient(z.astype(np.float64), cell_size)
    return np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)
