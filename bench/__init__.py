"""redbench: train and benchmark RED-Net (Mao, Shen & Yang, NIPS 2016) against classical baselines.

Modules import in one direction, layer by layer (tests/test_package.py checks it, README "Layout"):
foundation (errors, atomic, hashing, environment, defaults, color, resize, metrics, degradations, dihedral,
checks, plots) -> data and methods (redbench.datasets, redbench.methods) -> evaluation and training (runner,
rows, cluster, runinfo, comparison, tables, training) -> reporting (analysis, report, visual, figures,
experiments) -> reproduce -> the command line (cli).
"""
__version__ = "0.1.0"
