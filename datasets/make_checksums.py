"""Regenerate datasets/checksums/*.tsv from a mirror's MANIFEST.tsv.

    python -m redbench.datasets.make_checksums ../shared/datasets/MANIFEST.tsv     (from the checkout)

Each output line is `relpath<TAB>sha256<TAB>url`; the URL points at the public
repository and commit the mirror copied the file from, so a user without the
mirror downloads byte-identical files. Derived PNG copies in the mirror
(bsd100/) are skipped: BSD100 is defined on the original BSDS500 JPEGs.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
# mirror folder -> checksum file(s); bsds500 is split by its sub-folder
GROUPS = {"set5": "set5", "set14": "set14", "set12": "set12", "bsd68": "bsd68", "cbsd68": "cbsd68"}


def main(manifest: str) -> None:
    out_dir = Path(__file__).parent / "checksums"
    buckets: dict[str, list[tuple[str, str, str]]] = {}
    with open(manifest, newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rel = row["relpath"]
            if rel.startswith("bsds500/"):
                name = "bsds500_" + rel.split("/")[1]
            elif row["dataset"] in GROUPS:
                name = GROUPS[row["dataset"]]
            else:
                continue
            url = RAW.format(repo=row["source_repo"], commit=row["source_commit"], path=row["source_path"])
            buckets.setdefault(name, []).append((rel, row["sha256"], url))
    for name, rows in sorted(buckets.items()):
        with open(out_dir / f"{name}.tsv", "w") as fh:
            for rel, sha, url in sorted(rows):
                fh.write(f"{rel}\t{sha}\t{url}\n")
        print(f"{name}: {len(rows)} files")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/MANIFEST.tsv")
