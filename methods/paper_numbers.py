"""Published numbers of Mao, Shen & Yang (NIPS 2016), Tables 1-7.

Source: PSNR values were read from the paper PDF (nips_2016.pdf in the GitHub
repo ved27/RED-net, arXiv 1603.09056 v2) by the lead engineer and passed on in
the brief. The stored copy of that PDF has no readable text here, so they could
not be checked again. Two SSIM values (RED30, BSD200, sigma 30/50) come from a
secondary source: a GitHub README that quotes the RED-Net paper (see SOURCES).
Everything else is None because no source could be found. Values were not
filled in from memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Published:
    table: int          # 1..7
    dataset: str        # 'fourteen', 'bsd200', 'set5', 'set14', 'bsd100'
    method: str         # registry-style name; 'red30-single' = one model for all levels
    level: int          # sigma for denoising, scale for super-resolution
    psnr: Optional[float]
    ssim: Optional[float]


def _rows(table: int, dataset: str, methods: tuple[str, ...],
          grid: dict[int, tuple[Optional[float], ...]]) -> list[Published]:
    out = []
    for level, vals in grid.items():
        assert len(vals) == len(methods)
        for m, v in zip(methods, vals):
            out.append(Published(table, dataset, m, level, v, None))
    return out


_T1_METHODS = ("bm3d", "epll", "ncsr", "pclr", "pgpd", "wnnm", "red10", "red20", "red30")
_T1 = _rows(1, "fourteen", _T1_METHODS, {
    10: (34.18, 33.98, 34.27, 34.48, 34.22, 34.49, 34.62, 34.74, 34.81),
    30: (28.49, 28.35, 28.44, 28.68, 28.55, 28.74, 28.95, 29.10, 29.17),
    50: (26.08, 25.97, 25.93, 26.29, 26.19, 26.32, 26.51, 26.72, 26.81),
    70: (24.65, 24.47, 24.36, 24.79, 24.71, 24.80, 24.97, 25.23, 25.31),
})

# Table 2: only BM3D, WNNM and RED10/20/30 PSNR are known. Other methods in the
# paper's Table 2 (if any) were not found.
_T2_METHODS = ("bm3d", "wnnm", "red10", "red20", "red30")
_T2 = _rows(2, "bsd200", _T2_METHODS, {
    10: (33.01, 33.25, 33.49, 33.59, 33.63),
    30: (27.31, 27.48, 27.79, 27.90, 27.95),
    50: (25.06, 25.26, 25.54, 25.67, 25.75),
    70: (23.82, 23.95, 24.13, 24.33, 24.37),
})
# SSIM from the secondary source (RED30, BSD200, sigma 30 and 50 only).
_T2_SSIM = {("red30", 30): 0.8019, ("red30", 50): 0.7167}
_T2 = [Published(r.table, r.dataset, r.method, r.level, r.psnr,
                 _T2_SSIM.get((r.method, r.level), r.ssim)) for r in _T2]

# Tables 3-5 (SR). SC, NE+LLE, KK, ANR and A+ columns were not found.
_SR_METHODS = ("bicubic", "srcnn", "red10", "red20", "red30")
_T3 = _rows(3, "set5", _SR_METHODS, {
    2: (33.66, 36.66, 37.43, 37.62, 37.66),
    3: (30.39, 32.75, 33.43, 33.80, 33.82),
    4: (28.42, 30.49, 31.12, 31.40, 31.51),
})
_T4 = _rows(4, "set14", _SR_METHODS, {
    2: (30.24, 32.45, 32.77, 32.87, 32.94),
    3: (27.55, 29.30, 29.42, 29.61, 29.61),
    4: (26.00, 27.50, 27.58, 27.80, 27.86),
})
_T5 = _rows(5, "bsd100", _SR_METHODS, {
    2: (29.56, 31.36, 31.85, 31.95, 31.99),
    3: (27.21, 28.41, 28.79, 28.90, 28.93),
    4: (25.96, 26.90, 27.25, 27.35, 27.40),
})

# Table 6: denoising with one 30-layer model for all noise levels (PSNR only).
# The per-level 'red30' columns of Tables 6/7, and all of Table 7 (SR with a
# single model), were not found, so they are left out.
_T6 = (_rows(6, "fourteen", ("red30-single",), {
    10: (34.49,), 30: (29.09,), 50: (26.75,), 70: (25.20,)})
    + _rows(6, "bsd200", ("red30-single",), {
    10: (33.38,), 30: (27.88,), 50: (25.69,), 70: (24.36,)}))

PUBLISHED: tuple[Published, ...] = tuple(_T1 + _T2 + _T3 + _T4 + _T5 + _T6)

TABLE_TITLES: dict[int, str] = {
    1: "Average PSNR/SSIM, Gaussian denoising, 14 test images, sigma 10/30/50/70",
    2: "Average PSNR/SSIM, Gaussian denoising, BSD200, sigma 10/30/50/70",
    3: "Average PSNR/SSIM, super-resolution, Set5, x2/x3/x4",
    4: "Average PSNR/SSIM, super-resolution, Set14, x2/x3/x4",
    5: "Average PSNR/SSIM, super-resolution, BSD100, x2/x3/x4",
    6: "Denoising with a single 30-layer network for all noise levels",
    7: "Super-resolution with a single 30-layer network for all scales",
}
# These titles are paraphrases, not the paper's own captions; the captions could not be read here.

_BRIEF = ("PSNR from the paper PDF ved27/RED-net:nips_2016.pdf, read by the lead "
          "engineer and passed on in the brief. The stored copy has no text, so "
          "these values could not be checked again here.")

SOURCES: dict[int, str] = {
    1: _BRIEF + " All SSIM values are missing.",
    2: _BRIEF + " A second source agrees on BM3D sigma30 = 27.31 and RED30 sigma30 = 27.95: "
       "GitHub issue cswin/WIN#4. RED30 SSIM sigma30 = 0.8019 and sigma50 = 0.7167 "
       "(UNVERIFIED, secondary source) come from the README of a GitHub "
       "'image-restoration' repo (find_string id 6876379142), which quotes RED30 from "
       "the journal version arXiv 1606.08921 and has its PSNR/SSIM headings swapped. "
       "Its PSNR values (27.95/25.75) match this table. Missing: the other SSIM "
       "values and the columns for other methods.",
    3: _BRIEF + " The bicubic row is the standard value quoted in the brief and is "
       "UNVERIFIED as part of this table. Missing: all SSIM values and the "
       "SC/NE+LLE/KK/ANR/A+ columns.",
    4: "Same source and gaps as Table 3.",
    5: "Same source and gaps as Table 3.",
    6: _BRIEF + " Single-model PSNR only. The brief calls these 'Tables 6/7 denoise'. "
       "Putting both datasets under Table 6 is an ASSUMPTION. Missing: SSIM values "
       "and the per-level RED30 column.",
    7: "Nothing found (super-resolution with a single model: PSNR and SSIM both missing).",
}

_INDEX = {(p.table, p.dataset, p.method, p.level): p for p in PUBLISHED}
assert len(_INDEX) == len(PUBLISHED)


def lookup(table: int, dataset: str, method: str, level: int) -> Optional[Published]:
    """Return the published entry, or None if it is unknown or missing."""
    return _INDEX.get((table, dataset, method, level))
