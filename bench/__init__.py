"""redbench: train and benchmark RED-Net (Mao, Shen & Yang, NIPS 2016) against classical baselines.

Layers, each importing only from the ones before it (tests/test_layout.py checks this):
foundation (errors, atomic, hashing, environment, defaults, color, resize, metrics, degradations,
dihedral, checks, plots) -> data and methods (redbench.datasets, redbench.methods) -> evaluation,
training and reporting (runner, rows, cluster, runinfo, training, comparison, tables, analysis, report,
visual, figures, experiments, reproduce) -> the command line (cli).
"""
__version__ = "0.1.0"
