"""Our numbers against the paper's: which published table and cell each of our (task, dataset, method,
level) is held to. Tables, the report and the reproduction summary all compare through here.

Tables 1-5 hold one network per level (and the classical methods) per dataset; Tables 6-7 hold the single
all-level RED30. Our datasets are filed under the paper's (Set12 stands in for the 14 images, BSD200 at
half size for BSD200), and an x8 ensemble (red30+) is held to the same value as its network.
"""
from __future__ import annotations

from typing import Optional

from redbench.methods.paper_numbers import Published, lookup, table_levels

PAPER_TABLE = {'fourteen': 1, 'set12': 1, 'bsd200': 2, 'bsd200-half': 2, 'set5': 3, 'set14': 4, 'bsd100': 5}
TABLE_TASK = {1: 'denoise', 2: 'denoise', 3: 'sr', 4: 'sr', 5: 'sr', 6: 'denoise', 7: 'sr'}
SINGLE_TABLE = {'denoise': 6, 'sr': 7}
# Our dataset name -> the dataset name the published numbers are filed under.
PAPER_DATASET = {'set12': 'fourteen', 'bsd200-half': 'bsd200'}


def paper_table(task: str, dataset: str) -> Optional[int]:
    """The paper's Table 1-5 of this dataset and task (None: the paper has none)."""
    table = PAPER_TABLE.get(dataset)
    return table if table is not None and TABLE_TASK[table] == task else None


def paper_dataset(dataset: str) -> str:
    return PAPER_DATASET.get(dataset, dataset)


def paper_method(method: str) -> str:
    """The published column our method is compared with: an x8 ensemble (red30+) with the plain network,
    because the text does not say whether the paper's numbers used the x8 averaging (see paper_numbers)."""
    return method[:-1] if method.endswith('+') else method


def paper_levels(task: str, dataset: str) -> Optional[list[int]]:
    """Levels of the paper's table for this dataset (None: the paper has no table for it)."""
    table = paper_table(task, dataset)
    return None if table is None else table_levels(table, paper_dataset(dataset))


def held_to(task: str, dataset: str, method: str) -> Optional[int]:
    """The table our `method` is held to: a single all-level model (redN-single) to Table 6/7, anything
    else to the dataset's own Table 1-5; None where the paper has no table for the dataset."""
    if paper_table(task, dataset) is None:
        return None
    return SINGLE_TABLE[task] if paper_method(method).endswith('-single') else paper_table(task, dataset)


def published(table: Optional[int], dataset: str, method: str, level) -> Optional[Published]:
    """The paper's cell of `method` (its plain network for an x8 ensemble) in `table`, or None."""
    if table is None:
        return None
    return lookup(table, paper_dataset(dataset), paper_method(method), int(level))


def published_value(task: str, dataset: str, method: str, level, attr: str) -> Optional[float]:
    """The published PSNR or SSIM (`attr`) our `method` is held to, or None."""
    entry = published(held_to(task, dataset, method), dataset, method, level)
    return None if entry is None else getattr(entry, attr)
