"""The report's section "Against the authors' released networks": our RED30 beside the authors' released
RED30 as later papers measured it (methods/released_numbers.py), BSD68 and Set12.

Every value and every sentence about our networks is computed here from the stored rows and the model cards;
the released side comes from released_numbers, each value with its source.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pandas as pd

from redbench.methods import released_numbers as rel

from redbench.core.markdown import md_table
from redbench.core.weights_id import weights_name

# our columns, in order: BM3D checks the protocol, then the paper's 64-map RED30 and the released 128-map one
METHODS = ("bm3d", "red30", "red30+", "red30-c128", "red30-c128+")
FOLDER = "reproduce/released"   # under results/


@dataclass(frozen=True)
class Cell:
    dataset: str
    level: int
    method: str
    psnr: Optional[float]         # our mean (None: not run)
    ssim: Optional[float]
    images: int                   # images in our mean
    expected: int                 # images in the set
    published: rel.Released

    @property
    def complete(self) -> bool:
        return self.psnr is not None and self.images == self.expected

    def gap(self) -> Optional[float]:
        return self.psnr - self.published.psnr if self.complete else None


def expected_images(dataset: str) -> int:
    """How many images the set has, from its checksum list (the data layer's own record)."""
    from redbench.datasets.catalog import get_spec, image_count
    get_spec(dataset)   # an unknown name is the catalog's one-line error
    return image_count(dataset) or 0   # 0: a folder of the user's own images has no list


def released_cells(summary: pd.DataFrame) -> list[Cell]:
    """One cell per (yardstick cell, our method that exists or is the paper's RED30), from the rows summary
    (tables.covered_summary of the installed rows: mean psnr/ssim, n_images and n_total per cell)."""
    summary = summary[summary['task'] == 'denoise']
    out = []
    for dataset, level in rel.cells():
        sub = summary[(summary['dataset'] == dataset) & (summary['level'].astype(float) == float(level))]
        for method in METHODS:
            published = rel.released(dataset, method, level)
            mine = sub[sub['method'] == method]
            if published is None or (mine.empty and method.startswith('red30-c128')):
                continue   # the 128-map network shows once it has rows; the paper's RED30 always shows
            r = mine.iloc[0] if len(mine) else None
            out.append(Cell(dataset, level, method,
                            None if r is None else float(r['psnr']), None if r is None else float(r['ssim']),
                            0 if r is None else int(r['n_images']),
                            expected_images(dataset) if r is None else int(r['n_total']), published))
    return out


def gap_range(cells: list[Cell], method: str) -> Optional[tuple[float, float, int, int]]:
    """(smallest, largest) gap of `method` to the released network over its complete cells, with how many cells
    are complete and how many the yardstick has; None when no cell is complete."""
    mine = [c for c in cells if c.method == method]
    gaps = [c.gap() for c in mine if c.complete]
    return (min(gaps), max(gaps), len(gaps), len(mine)) if gaps else None


def standing(cells: list[Cell]) -> str:
    """One sentence: where the shipped RED30 (single pass and x8) stands against the released networks."""
    parts = []
    for method, words in (('red30', 'single pass'), ('red30+', 'x8 ensemble')):
        found = gap_range(cells, method)
        if found is None:
            parts.append(f"{method} ({words}): not measured yet")
            continue
        low, high, done, total = found
        where = 'below' if high < 0 else 'above' if low > 0 else 'from below to above'
        if high < 0:
            span = f"{abs(high):.2f} dB" if round(high, 2) == round(low, 2) else f"{abs(high):.2f}-{abs(low):.2f} dB"
        else:
            span = f"{low:+.2f} to {high:+.2f} dB"
        parts.append(f"{method} ({words}) is {span} {where} them in {done} of {total} cells")
    return ("Against the authors' released RED30 networks, as later papers measured them on BSD68 and Set12: "
            + "; ".join(parts) + ".")


def _fmt(value: Optional[float], digits: int) -> str:
    return '–' if value is None else f"{value:.{digits}f}"


def _ours(cell: Cell, attr: str, digits: int) -> str:
    value = getattr(cell, attr)
    if value is None:
        return 'not run'
    text = f"{value:.{digits}f}"
    return text if cell.complete else f"{text} (partial, {cell.images}/{cell.expected})"


def _diff(cell: Cell, attr: str, digits: int) -> str:
    theirs = getattr(cell.published, attr)
    if theirs is None or not cell.complete:
        return '–'
    return f"{getattr(cell, attr) - theirs:+.{digits}f}"


def _trained(cards: list, prefix: str) -> str:
    """What the cards say of our per-level networks of `prefix`: maps, patches, updates, batch, device."""
    mine = sorted((c for c in cards if c.name.startswith(prefix + '-s') and c.name[len(prefix) + 2:].isdigit()),
                  key=lambda c: float(c.levels[0]))
    if not mine:
        return f"no {prefix} networks are installed"
    widths = sorted({c.config.get('width') for c in mine})
    patches = sorted({c.total_patches for c in mine})
    steps = sorted({c.total_iterations for c in mine})
    batches = sorted({c.batch_size for c in mine})
    devices = sorted({c.device for c in mine})

    def span(values):
        return f"{values[0]:,}" if len(values) == 1 else f"{values[0]:,}-{values[-1]:,}"
    return (f"{len(mine)} per-level networks with {'/'.join(map(str, widths))} feature maps, each fine-tuned from "
            f"its single network ({', '.join(sorted({weights_name(c.init) for c in mine}))}) for "
            f"{span(patches)} patches in {span(steps)} updates (last run: batch {'/'.join(map(str, batches))}, "
            f"{'; '.join(devices)})")


def section(summary: pd.DataFrame, cards: list) -> str:
    """The markdown section, from the summary of the installed rows (all result folders) and the model cards."""
    cells = released_cells(summary)
    net = rel.RELEASED_NETWORK
    lines = []
    for c in cells:
        lines.append([c.dataset, c.level, c.method, _ours(c, 'psnr', 2), _fmt(c.published.psnr, 2), _diff(c, 'psnr', 2),
                      _ours(c, 'ssim', 4), _fmt(c.published.ssim, 4), _diff(c, 'ssim', 4),
                      f"{c.published.source.cite()}, row {c.published.source.row}"])
    missing = sorted({(c.dataset, c.method) for c in cells if not c.complete})
    commands = [f"python run_bench.py --task denoise --sigma "
                f"{','.join(str(c.level) for c in cells if c.dataset == d and c.method == m)} --datasets {d} "
                f"--methods {m} --out results/{FOLDER} --device auto" for d, m in missing]
    text = ["## Against the authors' released networks", '',
            standing(cells), '',
            "The paper's tables are one yardstick; the networks the authors released are the other. Later papers "
            "measured the released RED30 on BSD68 and Set12; each published value below names its source, and "
            "each paper's own BM3D is compared with ours, as a check that the two protocols agree. "
            "Ours minus theirs, mean PSNR (dB) and SSIM; a mean over fewer images than the set has is marked "
            "partial and not compared.", '',
            md_table(['set', 'sigma', 'ours', 'ours PSNR', 'published PSNR', 'difference', 'ours SSIM',
                      'published SSIM', 'difference', 'published in'], lines), '',
            'What differs between the two networks:', '',
            f"- Feature maps: the release's deploy file ({net['deploy file']}) has {net['feature maps']} on every "
            f"hidden layer of its {net['layers']} layers, skips every {net['skip every']} layers and one model per "
            f"noise level; ours: {_trained(cards, 'red30-denoise')}.",
            f"- The 128-map architecture as a method: red30-c128 (and red30-c128+); "
            f"{_trained(cards, 'red30-c128-denoise')}.",
            f"- Ensemble: the release's test code averages the {net['ensemble']} flips and rotations; red30 is one "
            f"pass, red30+ our {net['ensemble']}-fold average.",
            "- Noise: ours is drawn from seeded numpy streams, theirs from MATLAB's randn; the BM3D rows show what "
            "that and the rest of the protocol do to the means.",
            "- Unknown: how long the released networks were trained, and whether the later papers averaged the "
            "8 orientations when they measured them.", '']
    if commands:
        text += ['Cells not run yet, and the commands that fill them (an x8 cell is 8 restorations per image: '
                 '`--device auto` runs them on a CUDA GPU where there is one):', '',
                 '```', *commands, '```', '']
    return '\n'.join(text)
