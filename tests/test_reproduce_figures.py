"""The report's figures follow what they show: a visual grid is redrawn when its methods' weights change, a
Figure 3 picture when the runs its verdict rests on change."""
import json

import pandas as pd

from redbench.reporting import figure3, figures, report_figures, visual
from tests.test_figure3 import _run


def test_runnable_methods_leaves_out_untrained_levels_and_unknown_methods():
    kept, left = report_figures.runnable_methods("sr", 5, ["bicubic", "red30", "no-such-method"])
    assert list(kept) == ["bicubic"] and kept["bicubic"].startswith("bicubic-params@")
    assert left["red30"] == "not trained at this level yet"      # red30 has x2/x3/x4 only
    assert "no-such-method" in left


def test_visual_grid_is_redrawn_only_when_weights_change(tmp_path, monkeypatch):
    monkeypatch.setattr(report_figures, "ROOT", tmp_path)
    (tmp_path / "figures").mkdir()
    panels = []
    monkeypatch.setattr(figures, "draw_figure3", lambda panel, path, data_dir, force: panels.append(panel))
    monkeypatch.setattr(report_figures, "noise_level_rows", lambda: pd.DataFrame({"method": []}))
    monkeypatch.setattr(figures, "noise_level_plot", lambda *a, **k: None)
    monkeypatch.setattr(report_figures, "VISUAL_GRIDS", [("grid", "denoise", "set12", "02", 50, ["bm3d", "red30"])])
    installed = {"bm3d": "bm3d-params@1", "red30": "red30-denoise-s50@aaa"}
    monkeypatch.setattr(report_figures, "runnable_methods", lambda task, level, methods: (dict(installed), {"red10": "x"}))
    drawn = []

    def grid(task, dataset, image, level, methods, path, data_dir=None):
        drawn.append(list(methods))
        path.write_bytes(b"png")
        return {"psnr": {"degraded": 14.6, **{m: 29.0 for m in methods}}, "crop": (0, 0, 8, 8)}
    monkeypatch.setattr(visual, "comparison_grid", grid)

    report_figures.make_figures(None)
    report_figures.make_figures(None)                       # same weights: nothing redrawn
    assert drawn == [["bm3d", "red30"]] and panels == ["3a", "3b", "3c"] * 2
    installed["red30"] = "red30-denoise-s50@bbb"       # a newer network was published
    report_figures.make_figures(None)
    assert len(drawn) == 2
    record = json.loads(report_figures.visual_path("denoise", "set12", "02", 50).with_suffix(".json").read_text())
    assert record["weights"]["red30"].endswith("@bbb") and record["left_out"] == ["red10"]
    note = report_figures.visual_note("denoise", "set12", "02", 50)
    assert "red30 29.00 dB" in note and "Left out" in note and "red10" in note


def _block_runs(short, decisive):
    for name, psnr in (("fig3b-red20-skip", 27.0), ("fig3c-he-span2", 27.2), ("fig3c-red-span4", 27.1),
                       ("fig3c-he-span4", 26.9)):
        _run(short, name, psnr, iters=120, device="CPU, 1 threads")
    _run(decisive, "fig3b-red20-skip", 28.3, device="CPU, 2 threads")
    _run(decisive, "fig3c-he-span2", 28.1, device="CPU, 2 threads")


def test_figure3_is_drawn_from_the_runs_its_verdict_rests_on_and_again_when_they_change(tmp_path):
    decisive, short, png = tmp_path / "20k", tmp_path / "short", tmp_path / "figures" / "fig3c.png"
    _block_runs(short, decisive)
    assert figures.draw_figure3("3c", png, decisive_dir=decisive, short_dir=short)
    record = json.loads(png.with_suffix(".json").read_text())
    verdict = figure3.panel_verdict("3c", decisive, short)
    assert {name: run["folder"] for name, run in record["runs"].items()} == {
        name: run.folder.as_posix() for group in verdict.groups for name, run in group.runs.items()}
    assert record["runs"]["fig3c-he-span2"]["updates"] == 20000 and record["runs"]["fig3c-he-span4"]["updates"] == 120
    assert record["budget"]["block 2"].startswith("20,000 updates of batch 16, Adam lr 0.0001, CPU, 2 threads")
    assert "provisional: fewer than 20,000 updates" in record["budget"]["block 4"]
    assert png.read_bytes().startswith(b"\x89PNG")
    assert not figures.draw_figure3("3c", png, decisive_dir=decisive, short_dir=short)   # same runs: kept
    assert figures.draw_figure3("3c", png, decisive_dir=decisive, short_dir=short, force=True)
    _run(decisive, "fig3c-red-span4", 28.0)          # half of block 4's pair: still the short pair, still kept
    assert not figures.draw_figure3("3c", png, decisive_dir=decisive, short_dir=short)
    _run(decisive, "fig3c-he-span4", 28.2)           # block 4's pair at 20,000 updates: redrawn from it
    assert figures.draw_figure3("3c", png, decisive_dir=decisive, short_dir=short)
    record = json.loads(png.with_suffix(".json").read_text())
    assert {run["folder"] for run in record["runs"].values()} == {
        (decisive / name).as_posix() for name in ("fig3b-red20-skip", "fig3c-he-span2", "fig3c-red-span4",
                                                  "fig3c-he-span4")}
    assert all("the deciding budget" in text for text in record["budget"].values())
    log = decisive / "fig3c-he-span4" / "log.csv"    # a run trained again in place: redrawn
    log.write_text(log.read_text().replace("28.2", "28.25"))
    assert figures.draw_figure3("3c", png, decisive_dir=decisive, short_dir=short)


def test_figure3_with_no_complete_runs_draws_nothing(tmp_path):
    png = tmp_path / "fig3b.png"
    assert not figures.draw_figure3("3b", png, decisive_dir=tmp_path / "a", short_dir=tmp_path / "b")
    assert not png.exists()


def test_the_figure3c_note_reads_the_runs_of_the_verdict(tmp_path):
    decisive, short = tmp_path / "20k", tmp_path / "short"
    _block_runs(short, decisive)
    note = report_figures.fig3c_note(decisive, short)
    assert "| Block-2-RED | 25.08 | 28.30 | 20 | fig3b-red20-skip |" in note      # the 20,000-update run's log
    assert "| Block-4-He et al. | 25.21 | 26.90 | 20 | fig3c-he-span4 |" in note
    assert "4 crops, after 120 iterations on CPU, 1 threads; 4 crops, after 20000 iterations on CPU, 2 threads" in note
    assert report_figures.fig3c_note(tmp_path / "none", tmp_path / "none") == ""
