"""Published numbers of Mao, Shen & Yang (NIPS 2016): every cell of Tables 1-7, PSNR and SSIM.

Source: the paper's text, ../shared/paper/mao2016-red-net.md (Tables 1-7 and the
Figure 3 caption as text). tests/test_paper_numbers.py parses that file, when it is
present, and checks every cell here against it, so a transcription slip fails.

Only numbers printed in the paper are here. The bicubic SR values quoted in the SR
literature (not in this paper: its SR tables have no bicubic column) live in
tests/test_calibration.py with their own source.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

SOURCE = ("Mao, Shen & Yang, 'Image Restoration Using Very Deep Convolutional Encoder-Decoder Networks with "
          "Symmetric Skip Connections', NIPS 2016; transcribed from its text (../shared/paper/mao2016-red-net.md) "
          "and checked cell by cell by tests/test_paper_numbers.py")


@dataclass(frozen=True)
class Published:
    table: int          # 1..7
    dataset: str        # 'fourteen', 'bsd200', 'set5', 'set14', 'bsd100'
    method: str         # registry-style name; 'red30-single' = the single 30-layer model of Tables 6/7
    level: int          # sigma for denoising, scale for super-resolution
    psnr: float
    ssim: float
    column: str         # the paper's own column header: the method (Tables 1-5) or the dataset group (Tables 6/7)


# Column headers as printed; the registry key is the lower-case header, except where
# a '+' would read as our x8 self-ensemble suffix (red30+).
DENOISE_COLUMNS = ("BM3D", "EPLL", "NCSR", "PCLR", "PGPD", "WNNM", "RED10", "RED20", "RED30")
SR_COLUMNS = ("SRCNN", "NBSRF", "CSCN", "CSC", "TSE", "ARFL+", "RED10", "RED20", "RED30")
_KEY = {"ARFL+": "arflplus"}


def method_key(column: str) -> str:
    return _KEY.get(column, column.lower())


def _grid(table: int, dataset: str, columns: tuple[str, ...], psnr: dict, ssim: dict) -> list[Published]:
    assert psnr.keys() == ssim.keys()
    out = []
    for level in psnr:
        assert len(psnr[level]) == len(ssim[level]) == len(columns)
        for col, p, s in zip(columns, psnr[level], ssim[level]):
            out.append(Published(table, dataset, method_key(col), level, p, s, col))
    return out


_T1 = _grid(1, "fourteen", DENOISE_COLUMNS, {
    10: (34.18, 33.98, 34.27, 34.48, 34.22, 34.49, 34.62, 34.74, 34.81),
    30: (28.49, 28.35, 28.44, 28.68, 28.55, 28.74, 28.95, 29.10, 29.17),
    50: (26.08, 25.97, 25.93, 26.29, 26.19, 26.32, 26.51, 26.72, 26.81),
    70: (24.65, 24.47, 24.36, 24.79, 24.71, 24.80, 24.97, 25.23, 25.31),
}, {
    10: (0.9339, 0.9332, 0.9342, 0.9366, 0.9309, 0.9363, 0.9374, 0.9392, 0.9402),   # row label missing in the text
    30: (0.8204, 0.8200, 0.8203, 0.8263, 0.8199, 0.8273, 0.8327, 0.8396, 0.8423),
    50: (0.7427, 0.7354, 0.7415, 0.7538, 0.7442, 0.7517, 0.7571, 0.7689, 0.7733),
    70: (0.6882, 0.6712, 0.6871, 0.6997, 0.6913, 0.6975, 0.7012, 0.7177, 0.7206),
})

_T2 = _grid(2, "bsd200", DENOISE_COLUMNS, {
    10: (33.01, 33.01, 33.09, 33.30, 33.02, 33.25, 33.49, 33.59, 33.63),
    30: (27.31, 27.38, 27.23, 27.54, 27.33, 27.48, 27.79, 27.90, 27.95),
    50: (25.06, 25.17, 24.95, 25.30, 25.18, 25.26, 25.54, 25.67, 25.75),
    70: (23.82, 23.81, 23.58, 23.94, 23.89, 23.95, 24.13, 24.33, 24.37),
}, {
    10: (0.9218, 0.9255, 0.9226, 0.9261, 0.9176, 0.9244, 0.9290, 0.9310, 0.9319),
    30: (0.7755, 0.7825, 0.7738, 0.7827, 0.7717, 0.7807, 0.7918, 0.7993, 0.8019),
    50: (0.6831, 0.6870, 0.6777, 0.6947, 0.6841, 0.6928, 0.7032, 0.7117, 0.7167),
    70: (0.6240, 0.6168, 0.6166, 0.6336, 0.6245, 0.6346, 0.6367, 0.6521, 0.6551),
})

_T3 = _grid(3, "set5", SR_COLUMNS, {
    2: (36.66, 36.76, 37.14, 36.62, 36.50, 36.89, 37.43, 37.62, 37.66),
    3: (32.75, 32.75, 33.26, 32.66, 32.62, 32.72, 33.43, 33.80, 33.82),
    4: (30.49, 30.44, 31.04, 30.36, 30.33, 30.35, 31.12, 31.40, 31.51),
}, {
    2: (0.9542, 0.9552, 0.9567, 0.9549, 0.9537, 0.9559, 0.9590, 0.9597, 0.9599),
    3: (0.9090, 0.9104, 0.9167, 0.9098, 0.9094, 0.9094, 0.9197, 0.9229, 0.9230),
    4: (0.8628, 0.8632, 0.8775, 0.8607, 0.8623, 0.8583, 0.8794, 0.8847, 0.8869),
})

_T4 = _grid(4, "set14", SR_COLUMNS, {
    2: (32.45, 32.45, 32.71, 32.31, 32.23, 32.52, 32.77, 32.87, 32.94),
    3: (29.30, 29.25, 29.55, 29.15, 29.16, 29.23, 29.42, 29.61, 29.61),
    4: (27.50, 27.42, 27.76, 27.30, 27.40, 27.41, 27.58, 27.80, 27.86),
}, {
    2: (0.9067, 0.9071, 0.9095, 0.9070, 0.9036, 0.9074, 0.9125, 0.9138, 0.9144),
    3: (0.8215, 0.8212, 0.8271, 0.8208, 0.8197, 0.8201, 0.8318, 0.8343, 0.8341),
    4: (0.7513, 0.7511, 0.7620, 0.7499, 0.7518, 0.7483, 0.7654, 0.7697, 0.7718),
})

_T5 = _grid(5, "bsd100", SR_COLUMNS, {
    2: (31.36, 31.30, 31.54, 31.27, 31.18, 31.35, 31.85, 31.95, 31.99),
    3: (28.41, 28.36, 28.58, 28.31, 28.30, 28.36, 28.79, 28.90, 28.93),
    4: (26.90, 26.88, 27.11, 26.83, 26.85, 26.86, 27.25, 27.35, 27.40),
}, {
    2: (0.8879, 0.8876, 0.8908, 0.8876, 0.8855, 0.8885, 0.8953, 0.8969, 0.8974),   # row label missing in the text
    3: (0.7863, 0.7856, 0.7910, 0.7853, 0.7843, 0.7851, 0.7975, 0.7993, 0.7994),
    4: (0.7103, 0.7110, 0.7191, 0.7101, 0.7108, 0.7091, 0.7238, 0.7268, 0.7290),
})


def _single(table: int, groups: tuple[tuple[str, str, tuple[int, ...]], ...],
            psnr: tuple[float, ...], ssim: tuple[float, ...]) -> list[Published]:
    """Tables 6/7: one PSNR row and one SSIM row; columns are (dataset group x level)."""
    cells = [(dataset, header, level) for dataset, header, levels in groups for level in levels]
    assert len(cells) == len(psnr) == len(ssim)
    return [Published(table, d, "red30-single", lvl, p, s, header)
            for (d, header, lvl), p, s in zip(cells, psnr, ssim)]


_T6 = _single(6, (("fourteen", "14 images", (10, 30, 50, 70)), ("bsd200", "BSD200", (10, 30, 50, 70))),
              (34.49, 29.09, 26.75, 25.20, 33.38, 27.88, 25.69, 24.36),
              (0.9368, 0.8414, 0.7716, 0.7157, 0.9280, 0.7980, 0.7119, 0.6544))
_T7 = _single(7, (("set5", "Set5", (2, 3, 4)), ("set14", "Set14", (2, 3, 4)), ("bsd100", "BSD100", (2, 3, 4))),
              (37.56, 33.70, 31.33, 32.81, 29.50, 27.72, 31.96, 28.88, 27.35),
              (0.9595, 0.9222, 0.8847, 0.9135, 0.8334, 0.7698, 0.8972, 0.7993, 0.7276))

PUBLISHED: tuple[Published, ...] = tuple(_T1 + _T2 + _T3 + _T4 + _T5 + _T6 + _T7)

# The paper's own captions (LaTeX sigma written as the letter).
TABLE_TITLES: dict[int, str] = {
    1: "Average PSNR and SSIM results of σ 10, 30, 50, 70 for the 14 images.",
    2: "Average PSNR and SSIM results of σ 10, 30, 50, 70 on 200 images from BSD.",
    3: "Average PSNR and SSIM results on Set5.",
    4: "Average PSNR and SSIM results on Set14.",
    5: "Average PSNR and SSIM results on BSD100 for super-resolution.",
    6: "Average PSNR and SSIM results for image denoising using a single 30-layer network.",
    7: "Average PSNR and SSIM results for image super-resolution using a single 30-layer network.",
}

# Figure 3(c) caption: "PSNR values at the last iteration for the curves are: 25.08, 24.59, 25.30 and 25.21."
# The caption does not name the curves; the order below is an inference (see AMBIGUITIES).
FIGURE_3C: tuple[tuple[str, float], ...] = (
    ("Block-2-RED", 25.08), ("Block-2-He et al.", 24.59), ("Block-4-RED", 25.30), ("Block-4-He et al.", 25.21))

# Section 2.2: the trained model of Burger et al. [1] (one noise level) applied at other sigmas, 14 images.
SECTION_2_2: dict[int, float] = {10: 29.95, 30: 27.81, 50: 18.62, 70: 14.84}

# How the places where the text is unclear were read. Rendered into the report.
AMBIGUITIES: tuple[str, ...] = (
    "Tables 1 and 5: the first SSIM row has no row label in the text. It is read as sigma 10 (Table 1) and "
    "s = 2 (Table 5): the other three SSIM rows carry the other three levels in the same ascending order as "
    "the PSNR block above them, so the unlabelled row is the only level left.",
    "Bold marks (<b>) in the text are the paper's best-in-row highlight, not data. Two do not mark the row "
    "maximum (Table 4, s = 3: PSNR RED20 = RED30 = 29.61, and SSIM RED20 0.8343 > bold RED30 0.8341); the "
    "values are kept exactly as printed.",
    "Section 3 names the denoisers 'PDPD [33]' and 'WMMN [9]'; the table headers say PGPD and WNNM, which "
    "match references [33] (Xu et al., patch group prior) and [9] (Gu et al., weighted nuclear norm "
    "minimization). The table headers are used.",
    "The SR header 'ARFL+' is stored under the key 'arflplus', so that it cannot be read as our '+' (x8 "
    "self-ensemble) suffix; tables show the paper's header 'ARFL+'.",
    "Tables 6 and 7 have no method column: their columns are dataset groups (14 images / BSD200, Set5 / "
    "Set14 / BSD100) by level, and every cell is the single 30-layer network, filed as 'red30-single'.",
    "The paper's SR tables (3-5) have no bicubic column. Bicubic values quoted in the SR literature are "
    "not the paper's and are used only in tests/test_calibration.py, with their source.",
    "The text does not say whether the tables use the x8 flip/rotate averaging of section 2.4; the authors' "
    "released code applies it for every task. Our red30 (single pass) and red30+ (x8) are both compared "
    "with the same published RED30 value.",
    "Figure 3(c): the caption lists four end-of-training PSNR values without naming the curves, and the "
    "legend (with the block sizes) is not in the text. They are paired RED before He et al., as the caption "
    "introduces them, and the smaller block first: Block-2-RED, Block-2-He et al., Block-4-RED, Block-4-He "
    "et al. (block sizes 2 and 4 as in our experiments). With this pairing RED beats He et al. at both "
    "block sizes, as the text claims. The noise level and test images of Figure 3(c) are not stated.",
    "Section 2.2: the single-level model is Burger et al.'s [1] (a plain MLP); the text does not say which "
    "sigma it was trained at. Ours is RED10 trained at sigma 30 only.",
)

_INDEX = {(p.table, p.dataset, p.method, p.level): p for p in PUBLISHED}
assert len(_INDEX) == len(PUBLISHED)


def lookup(table: int, dataset: str, method: str, level: float) -> Optional[Published]:
    """Return the published entry, or None if the paper has no such cell; `level` is matched exactly (30.0 finds
    the paper's 30, 30.9 finds nothing)."""
    return _INDEX.get((table, dataset, method, level))


def table_levels(table: int, dataset: str) -> list[int]:
    """The levels the paper reports for `dataset` in `table`, ascending."""
    return sorted({p.level for p in PUBLISHED if p.table == table and p.dataset == dataset})
