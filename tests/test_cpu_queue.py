"""scripts/cpu_queue.sh: the background queue runs its steps in the issues' order, each from the queue's own copy of
the code and into the checkout it is given, with flags the scripts accept; it stops at the first step that fails
(with that step's exit code), passes a SIGTERM on to the running step, and refuses a target that is not a folder."""
import os
import re
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT

QUEUE = ROOT / "scripts" / "cpu_queue.sh"


def _fake_python(tmp_path, body: str = ""):
    """A stand-in python that records each command line, then runs `body` (sh)."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n{body}\nexit 0\n')
    fake.chmod(0o755)
    return fake, log


def _run_queue(tmp_path, body: str = "", target=None):
    fake, log = _fake_python(tmp_path, body)
    if target is None:
        target = tmp_path / "target"
        target.mkdir()
    done = subprocess.run(["bash", str(QUEUE), str(target)], env=dict(os.environ, PYTHON=str(fake)),
                          capture_output=True, text=True, timeout=60)
    return done, log.read_text().splitlines() if log.exists() else [], target


def test_the_queue_runs_figure3_then_the_network_cells_then_the_probe_into_the_target(tmp_path):
    done, calls, target = _run_queue(tmp_path)
    assert done.returncode == 0, done.stderr
    scripts = [call.split()[0] for call in calls]
    assert scripts == [f"{ROOT}/scripts/figure3.py"] * 3 + [f"{ROOT}/run_bench.py", f"{ROOT}/scripts/leg_probe.py"]
    assert [re.search(r"--panel (\S+)", c).group(1) for c in calls[:3]] == ["3c", "3a", "3b"]
    assert all(f"--work {target}/campaign/work-figure3 --results {target}/results/experiments-20k" in c
               for c in calls[:3])
    assert " reproduce --networks-only " in calls[3] and f"--work {target}/campaign/work-leg1-probe" in calls[4]
    assert "queue done" in done.stdout


def test_every_flag_the_queue_passes_is_one_its_script_accepts(tmp_path):
    _, calls, _ = _run_queue(tmp_path)
    accepted = {}
    for call in calls:
        script, *args = call.split()
        command = (sys.executable, script) + (("reproduce",) if "reproduce" in args else ()) + ("--help",)
        if command not in accepted:
            text = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120,
                                  env=dict(os.environ, REDBENCH_NO_REEXEC="1")).stdout
            accepted[command] = set(re.findall(r"(--[a-z0-9][a-z0-9-]*)", text))
        assert {a for a in args if a.startswith("--")} <= accepted[command], (script, accepted[command])


def test_a_failing_step_stops_the_queue_with_its_exit_code(tmp_path):
    done, calls, _ = _run_queue(tmp_path, body='case "$*" in *"--panel 3a"*) exit 3;; esac')
    assert done.returncode == 3
    assert len(calls) == 2 and "stopped (exit 3)" in done.stdout


def test_a_target_that_is_not_a_folder_is_one_error_line_and_nothing_runs(tmp_path):
    done, calls, _ = _run_queue(tmp_path, target=tmp_path / "missing")
    assert done.returncode == 2 and calls == []
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and "missing" in done.stderr


def test_sigterm_to_the_queue_reaches_the_running_step_and_stops_the_queue(tmp_path):
    # the step checkpoints on SIGTERM and exits 130, as scripts/figure3.py does
    body = ('case "$*" in *"--panel 3c"*) trap \'echo got-term >> ' + str(tmp_path / "calls.log") +
            '; exit 130\' TERM; echo started >> ' + str(tmp_path / "calls.log") +
            '; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done;; esac')
    fake, log = _fake_python(tmp_path, body)
    target = tmp_path / "target"
    target.mkdir()
    queue = subprocess.Popen(["bash", str(QUEUE), str(target)], env=dict(os.environ, PYTHON=str(fake)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while "started" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    queue.send_signal(signal.SIGTERM)
    out, _ = queue.communicate(timeout=30)
    lines = log.read_text().splitlines()
    assert queue.returncode == 130 and "stopped (exit 130)" in out
    assert "got-term" in lines and len([x for x in lines if "figure3.py" in x]) == 1   # no later step ran
