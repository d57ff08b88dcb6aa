"""The results store under load (issue 30): scripts/stress_store.py at 8 runs (docs/reliability.md has 32)."""
import sys

from tests.conftest import ROOT


def test_eight_runs_into_one_out_with_kills_lose_nothing(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from stress_store import stress
    figures = stress(runs=8, images=12, work=tmp_path / "stress", progress=lambda line: None)
    report = "\n".join(figures.lines())
    assert (figures.refused, figures.lost, figures.repeated, figures.different) == (0, 0, 0, 0), report
    assert figures.rows_expected == 17 * 12 and figures.invalid == 0 and figures.unexpected == 0, report
    # a third of the runs (2) really died mid-run and were rerun, and rows.csv was exported while runs wrote
    assert figures.killed == 2 and figures.kills_missed == 0, report
    assert len(figures.killed_after_rows) == 2 and min(figures.killed_after_rows) >= 1, report
    assert figures.kills_cut_work >= 1, report      # at least one rerun had rows of its own left to compute
    assert figures.exports >= 1 and figures.exports_unreadable == 0, report
