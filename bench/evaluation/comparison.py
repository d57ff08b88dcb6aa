"""Our numbers against the paper's: which published table and cell each of our (task, dataset, method,
level) is held to. Tables, the report and the reproduction summary all compare through here.

Tables 1-5 hold one network per level (and the classical methods) per dataset; Tables 6-7 hold the single
all-level RED30. Our datasets are filed under the paper's (Set12 stands in for the 14 images, BSD200 at
half size for BSD200), and an x8 ensemble (red30+) is held to the same value as its network.
"""
from __future__ import annotations

from typing import Optional

from redbench.datasets.catalog import SPECS
from redbench.methods.paper_numbers import Published, lookup, table_levels

# Both derived from each set's PaperRole (datasets/catalog.py), the one record of a set's place in the paper.
PAPER_TABLE = {name: spec.role.table for name, spec in SPECS.items() if spec.role.table is not None}
# Our dataset name -> the dataset name the published numbers are filed under.
PAPER_DATASET = {name: spec.role.paper_set for name, spec in SPECS.items() if spec.role.paper_set}
TABLE_TASK = {1: 'denoise', 2: 'denoise', 3: 'sr', 4: 'sr', 5: 'sr', 6: 'denoise', 7: 'sr'}
SINGLE_TABLE = {'denoise': 6, 'sr': 7}
TASK_WORD = {'denoise': 'denoise', 'sr': 'SR'}


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
    """The paper's cell of `method` (its plain network for an x8 ensemble) in `table` at exactly `level`, or None
    (sigma 30.9 is not the paper's sigma 30)."""
    if table is None:
        return None
    return lookup(table, paper_dataset(dataset), paper_method(method), float(level))


def published_value(task: str, dataset: str, method: str, level, attr: str) -> Optional[float]:
    """The published PSNR or SSIM (`attr`) our `method` is held to, or None."""
    entry = published(held_to(task, dataset, method), dataset, method, level)
    return None if entry is None else getattr(entry, attr)


def role_text(dataset: str) -> str:
    """A set's role in the paper in a few words (the report's Data table), from its PaperRole."""
    from redbench.datasets.catalog import get_spec
    spec = get_spec(dataset)
    role = spec.role
    parts = []
    if role.table is not None:
        parts.append(f"Table {role.table} ({TASK_WORD[TABLE_TASK[role.table]]})"
                     + (f", in place of the paper's {role.paper_set}" if role.paper_set else ''))
    if role.use:
        parts.append(role.use)
    if not spec.verified:
        parts.append('checksums unverified')
    return '; '.join(parts)


def deviation_notes(datasets) -> list[str]:
    """How each of `datasets` differs from the paper's set it is compared with (its PaperRole note)."""
    return [SPECS[d].role.note for d in sorted(datasets) if d in SPECS and SPECS[d].role.note]
