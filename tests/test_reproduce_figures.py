"""The report's figures follow the installed weights: a visual grid is redrawn when its methods' weights change."""
import json

import pandas as pd

from redbench.reporting import figures, report_figures, visual


def test_runnable_methods_leaves_out_untrained_levels_and_unknown_methods():
    kept, left = report_figures.runnable_methods("sr", 5, ["bicubic", "red30", "no-such-method"])
    assert list(kept) == ["bicubic"] and kept["bicubic"].startswith("bicubic-params@")
    assert left["red30"] == "not trained at this level yet"      # red30 has x2/x3/x4 only
    assert "no-such-method" in left


def test_visual_grid_is_redrawn_only_when_weights_change(tmp_path, monkeypatch):
    monkeypatch.setattr(report_figures, "ROOT", tmp_path)
    (tmp_path / "figures").mkdir()
    for name in ("fig3a.png", "fig3b.png", "fig3c.png"):              # cached experiment figures
        (tmp_path / "figures" / name).write_bytes(b"png")
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
    assert drawn == [["bm3d", "red30"]]
    installed["red30"] = "red30-denoise-s50@bbb"       # a newer network was published
    report_figures.make_figures(None)
    assert len(drawn) == 2
    record = json.loads(report_figures.visual_path("denoise", "set12", "02", 50).with_suffix(".json").read_text())
    assert record["weights"]["red30"].endswith("@bbb") and record["left_out"] == ["red10"]
    note = report_figures.visual_note("denoise", "set12", "02", 50)
    assert "red30 29.00 dB" in note and "Left out" in note and "red10" in note
