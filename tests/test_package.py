"""The package as a whole: one namespace, layers without import cycles, the command line, plugins, the wheel."""
import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import redbench
from tests.conftest import ROOT

# where each part of the namespace lives (pyproject.toml's package-dir, redbench.py in a checkout)
FOLDERS = {"redbench": ROOT / "bench", "redbench.methods": ROOT / "methods", "redbench.datasets": ROOT / "datasets"}
OLD_NAMES = ("bench", "methods", "datasets")    # the top-level packages of the past: nothing imports them now

# Layers, lowest first, from the one list of them (redbench.LAYERS): a module imports from its own layer or below.
LAYER_OF = {part: rank for rank, (_, parts) in enumerate(redbench.LAYERS) for part in parts}


def layer(module: str) -> int:
    parts = module.split(".")
    # the package itself holds the layer list and the lazy map of its Python API (tests/test_api.py checks that
    # map points into the evaluation layer and loads nothing at import)
    part = parts[1] if len(parts) > 1 else "core"
    if part not in LAYER_OF:
        raise AssertionError(f"{module}: put it in a layer's folder (redbench.LAYERS)")
    return LAYER_OF[part]


def package_modules() -> dict[str, Path]:
    """Every module of the redbench namespace -> its file."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imports(module: str, path: Path, known: set[str]) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import statement, in functions too."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            names = [alias.name for alias in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            out += [(sub, [], node.lineno) for sub in submodules]
            out.append((base, [n for n in names if f"{base}.{n}" not in known], node.lineno))
    return out


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges between redbench modules (an import of a.b.c also runs the packages a and a.b), and problems."""
    modules = package_modules()
    known = set(modules)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    problems = []
    for module, path in modules.items():
        for target, names, line in imports(module, path, known):
            where = f"{path.relative_to(ROOT)}:{line}"
            if target.split(".")[0] in OLD_NAMES:
                problems.append(f"{where} imports {target}: use the redbench namespace")
            if not target.startswith("redbench"):
                continue
            if target not in known:
                problems.append(f"{where} imports {target}, which is not a module of redbench")
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target != module:
                problems.append(f"{where} imports private {', '.join(private)} from {target}")
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                dependency = ".".join(parts[:i])
                if dependency != module and not module.startswith(dependency + "."):
                    edges[module].add(dependency)
    return edges, problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_and_layers_go_one_way():
    edges, problems = import_graph()
    assert not problems, "\n".join(problems)
    assert not cycles(edges), cycles(edges)
    upward = [f"{m} ({redbench.LAYERS[layer(m)][0]}) imports {t} ({redbench.LAYERS[layer(t)][0]})"
              for m, targets in edges.items() for t in targets if layer(t) > layer(m)]
    assert not upward, "\n".join(upward)


def test_cycle_check_sees_lazy_and_relative_imports():
    assert ["a", "b"] in cycles({"a": {"b"}, "b": {"a"}}) and not cycles({"a": {"b"}, "b": set()})
    edges, _ = import_graph()
    assert "redbench.evaluation.runner" in edges["redbench.cli"]                       # imported inside a function
    assert "redbench.methods.base" in edges["redbench.methods.red_family"]         # relative, inside redbench.methods
    assert "redbench.core.errors" in edges["redbench.datasets.fetch"]


def test_scripts_and_tests_use_the_namespace():
    pattern = ("from bench", "import bench", "from methods", "import methods", "from datasets", "import datasets")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for folder in ("scripts", "tests") for p in (ROOT / folder).glob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1) if line.strip().startswith(pattern)]
    assert not offenders


# ---------------------------------------------------------------- the command line

def _cli(*args, env=None, cwd=None, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "run_bench.py"), *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), cwd=cwd, timeout=timeout)


def test_every_flag_has_help_and_closed_values_have_choices():
    from redbench.cli import SUBCOMMANDS, build_parser
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert tuple(commands) == SUBCOMMANDS
    for name, sub in commands.items():
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings} has no help"
        text = sub.format_help()
        assert "(default: " in text or name == "list", name
    flags = {a.dest: a for a in commands["train"]._actions}
    assert flags["task"].choices == ("denoise", "sr") and set(flags["precision"].choices) == {"auto", "fp32", "bf16"}
    assert "(default: 10,30,50,70)" in commands["train"].format_help()
    assert {a.dest for a in commands["reproduce"]._actions} >= {"jobs", "backend", "scheduler", "quiet", "data_dir"}
    assert "out" not in {a.dest for a in commands["reproduce"]._actions}     # reproduce writes results/ only


def test_help_reads_cleanly(tmp_path):
    top = _cli("--help")
    assert top.returncode == 0 and all(c in top.stdout for c in ("eval", "train", "reproduce", "list", "fetch"))
    for command in ("eval", "train", "reproduce", "list", "fetch", "restore", "verify"):
        result = _cli(command, "--help")
        assert result.returncode == 0 and result.stdout.startswith(f"usage: run_bench.py {command}"), result.stderr
        assert "None" not in result.stdout, command


@pytest.mark.parametrize("args, message", [
    (["eval", "--task", "deblur"], "invalid choice: 'deblur'"),
    (["evaluate"], "invalid choice: 'evaluate'"),
    (["--task", "sr", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["train", "--status"], "--status needs --plan FILE"),
    (["train", "--plan", "campaign/plan.toml", "--model", "red10"], "--model has no effect with --plan"),
    (["reproduce", "--out", "x"], "unrecognized arguments: --out x"),
    (["list", "weights"], "invalid choice: 'weights'"),
])
def test_bad_command_lines_are_one_line(args, message, capsys):
    from redbench.cli import main
    assert main(args, prog="redbench") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_old_spellings_mean_their_subcommands():
    from redbench.cli import with_subcommand
    assert with_subcommand(["--task", "sr"]) == ["eval", "--task", "sr"]
    assert with_subcommand(["--reproduce", "--no-train"]) == ["reproduce", "--no-train"]
    assert with_subcommand(["--list-methods"]) == ["list", "methods"]
    assert with_subcommand(["train", "--model", "red10"]) == ["train", "--model", "red10"]
    assert _cli("--list-datasets").stdout == _cli("list", "datasets").stdout


# ---------------------------------------------------------------- method plugins

PLUGIN = '''
from scipy.ndimage import median_filter

from redbench.methods import Method, register_method


@register_method("median3", tasks=("denoise",), description="3x3 median filter")
class Median3(Method):
    def restore(self, degraded, degradation):
        return median_filter(degraded, size=3)


class Identity(Method):
    """returns its input (registered under its entry point's name)"""
    tasks = ("sr",)

    def restore(self, degraded, degradation):
        return degraded
'''


def test_method_plugin_from_another_package(mirror, tmp_path):
    site = tmp_path / "site"
    (site / "median_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "median_plugin.py").write_text(PLUGIN)
    (site / "median_plugin-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: median-plugin\n"
                                                                  "Version: 0.1\n")
    (site / "median_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[redbench.methods]\nmedian3 = median_plugin:Median3\nsame = median_plugin:Identity\n"
        "broken = no_such_module:Method\n")
    env = {"PYTHONPATH": str(site)}
    listed = _cli("list", "methods", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "3x3 median filter [plugin median-plugin]" in lines["median3"] and "denoise" in lines["median3"]
    assert "returns its input" in lines["same"] and lines["same"].endswith("[plugin median-plugin]")
    assert " sr " in lines["same"]
    assert "did not load" in lines["broken"] and "bm3d" in lines                     # the built-ins stay
    assert "warning: method plugin 'broken'" in listed.stderr
    # evaluated like a built-in method, in worker processes too
    out = tmp_path / "out"
    run = _cli("--task", "denoise", "--sigma", "30", "--datasets", "set12", "--methods", "median3,noisy",
               "--jobs", "2", "--quiet", "--out", str(out), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    import pandas as pd
    rows = pd.read_csv(out / "rows.csv")
    assert (rows.method == "median3").sum() == 12
    assert rows[rows.method == "median3"].psnr.mean() > rows[rows.method == "noisy"].psnr.mean() + 5
    failed = _cli("--task", "denoise", "--methods", "broken", "--out", str(tmp_path / "o2"), env=env)
    assert failed.returncode == 2 and failed.stderr.strip().splitlines()[-1].startswith(
        "error: method 'broken' comes from a plugin that failed to load")


# ---------------------------------------------------------------- installing

def test_wheel_holds_only_the_redbench_namespace(tmp_path):
    """`pip install .` adds the package redbench and the command redbench, and no other top-level name
    (bench, methods and a `datasets` that would shadow Hugging Face's)."""
    pytest.importorskip("setuptools", minversion="77")   # build-system requires of pyproject.toml
    tree = tmp_path / "tree"
    listed = subprocess.run(["git", "ls-files", "-z", "pyproject.toml", "README.md", "LICENSE", "bench", "methods",
                             "datasets"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(tree)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("redbench-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert {n.split("/")[0] for n in names} == {"redbench", wheel.name.split("-py")[0] + ".dist-info"}
    assert {"redbench/cli.py", "redbench/methods/registry.py", "redbench/datasets/fetch.py",
            "redbench/training/train.py", "redbench/datasets/checksums/set5.tsv",
            "redbench/methods/tv_weights.json", "redbench/methods/weights/srcnn-sr.safetensors"} <= set(names)
    assert "redbench = redbench.cli:run" in entry_points


def test_readme_layout_lists_the_layers_in_order():
    """The README's Layout tree names every layer's folder or module, lowest layer first (redbench.LAYERS)."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    firsts = [line.split()[0] for line in block.splitlines() if line and not line[0].isspace()]
    where = {"core": "bench/core/", "datasets": "datasets/", "methods": "methods/", "evaluation": "bench/evaluation/",
             "training": "bench/training/", "reporting": "bench/reporting/", "reproduce": "bench/reproduce.py",
             "cli": "bench/cli.py"}
    packages = {p.name for p in (ROOT / "bench").iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(where), f"a new folder of bench/ needs a layer: {packages - set(where)}"
    ranks = []
    for rank, (_, parts) in enumerate(redbench.LAYERS):
        for part in parts:
            if part == "__main__":
                continue
            assert where[part] in firsts, f"README Layout does not name {where[part]}"
            ranks.append((firsts.index(where[part]), rank))
    assert [r for _, r in sorted(ranks)] == sorted(r for _, r in ranks), "README Layout lists the layers out of order"
