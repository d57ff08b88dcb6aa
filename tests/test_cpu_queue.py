"""scripts/cpu_queue.sh: the background queue runs its steps in the issues' order, into the checkout it is given,
with flags the scripts accept, and stops at the first step that fails (with that step's exit code)."""
import os
import re
import subprocess
import sys

from tests.conftest import ROOT

QUEUE = ROOT / "scripts" / "cpu_queue.sh"


def _run_queue(tmp_path, fail_on: str | None = None):
    """The queue with a stand-in python that records each command line (and fails where asked)."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "python"
    fail = f'case "$*" in *"{fail_on}"*) exit 3;; esac\n' if fail_on else ""
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n{fail}exit 0\n')
    fake.chmod(0o755)
    target = tmp_path / "target"
    target.mkdir()
    done = subprocess.run(["bash", str(QUEUE), str(target)], env=dict(os.environ, PYTHON=str(fake)),
                          capture_output=True, text=True, timeout=60)
    return done, log.read_text().splitlines() if log.exists() else [], target


def test_the_queue_runs_figure3_then_the_network_cells_then_the_probe_into_the_target(tmp_path):
    done, calls, target = _run_queue(tmp_path)
    assert done.returncode == 0, done.stderr
    assert [re.search(r"(figure3|run_bench|leg_probe)\.py", c).group(1) for c in calls] == [
        "figure3", "figure3", "figure3", "run_bench", "leg_probe"]
    assert [re.search(r"--panel (\S+)", c).group(1) for c in calls[:3]] == ["3c", "3a", "3b"]
    assert all(f"--work {target}/campaign/work-figure3 --results {target}/results/experiments-20k" in c
               for c in calls[:3])
    assert "reproduce --networks-only" in calls[3] and f"--work {target}/campaign/work-leg1-probe" in calls[4]
    assert "queue done" in done.stdout


def test_every_flag_the_queue_passes_is_one_its_script_accepts(tmp_path):
    _, calls, _ = _run_queue(tmp_path)
    helps = {}
    for call in calls:
        script, *args = call.split()
        command = [sys.executable, script] + (["reproduce"] if "reproduce" in args else []) + ["--help"]
        if tuple(command) not in helps:
            helps[tuple(command)] = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                                   env=dict(os.environ, REDBENCH_NO_REEXEC="1"), timeout=120).stdout
        for flag in (a for a in args if a.startswith("--")):
            assert flag in helps[tuple(command)], (flag, script)


def test_a_failing_step_stops_the_queue_with_its_exit_code(tmp_path):
    done, calls, _ = _run_queue(tmp_path, fail_on="--panel 3a")
    assert done.returncode == 3
    assert len(calls) == 2 and "stopped (exit 3)" in done.stdout
