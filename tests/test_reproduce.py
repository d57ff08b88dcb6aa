"""`redbench reproduce` hands its options to every step as arguments."""
from redbench import reproduce
from redbench.evaluation.runner import RunConfig
from redbench.reporting import experiments


def test_reproduce_trains_and_evaluates_on_the_device_it_is_given(monkeypatch):
    trained, evaluated = [], []
    monkeypatch.setattr(experiments, "is_done", lambda exp: False)
    monkeypatch.setattr(experiments, "run_experiment",
                        lambda exp, data_dir, scale=1.0, device="auto": trained.append((exp.name, device)))
    runs = [("sr", RunConfig("sr", [2], ["set5"], ["bicubic"], out="unused"))]
    monkeypatch.setattr(reproduce, "evaluation_runs", lambda data_dir: runs)
    monkeypatch.setattr(reproduce, "run", lambda config, argv, progress, command: evaluated.append(config) or
                        {"computed": 0, "reused": 0, "wall_seconds": 0.0})
    monkeypatch.setattr(reproduce, "write_report", lambda data_dir, force_figures: None)
    reproduce.reproduce(jobs=2, device="cpu", progress=False)
    assert [name for name, _ in trained] == [exp.name for exp in experiments.EXPERIMENTS]
    assert {device for _, device in trained} == {"cpu"}
    assert [(c.device, c.jobs) for c in evaluated] == [("cpu", 2)]
    assert runs[0][1].device == "auto" and runs[0][1].jobs == 0     # the listed runs are left as they were
