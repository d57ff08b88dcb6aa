"""Writes bench/evaluation/cm_widths.py: the advance widths of the Computer Modern fonts the LaTeX tables are set
in, read from their TFM files (found with kpsewhich; texlive-latex-recommended has them).

    python scripts/cm_widths.py

The tables are sized from these widths (table_latex.py); rerun only if the fonts change.
"""
from __future__ import annotations

import struct
import textwrap
import subprocess
from pathlib import Path

# font: (design size pt, characters measured)
FONTS = {name: chars for name, chars in (
    ('cmr10', None), ('cmr9', None), ('cmr8', None), ('cmr6', None),
    ('cmbx10', None), ('cmbx9', None), ('cmbx8', None),
    ('cmmi10', (27,)), ('cmmi9', (27,)), ('cmmi8', (27,)),   # \sigma
    ('cmsy10', (2,)), ('cmsy9', (2,)), ('cmsy8', (2,)),       # \times
)}
ASCII = ''.join(chr(c) for c in range(33, 127))
OUT = Path(__file__).resolve().parents[1] / 'bench' / 'evaluation' / 'cm_widths.py'


def tfm_widths(path: Path) -> tuple[float, dict[int, float]]:
    """(design size in pt, {character code: advance width in pt}) of one TFM file."""
    data = path.read_bytes()
    lf, lh, bc, ec, nw = struct.unpack('>5H', data[:10])
    words = [data[i:i + 4] for i in range(0, 4 * lf, 4)]
    design = struct.unpack('>i', words[6 + 1])[0] / 2 ** 20
    info_start = 6 + lh
    width_start = info_start + (ec - bc + 1)
    widths = [struct.unpack('>i', words[width_start + i])[0] / 2 ** 20 for i in range(nw)]
    out = {}
    for code in range(bc, ec + 1):
        index = words[info_start + code - bc][0]
        if index:
            out[code] = round(widths[index] * design, 4)
    return design, out


def main() -> None:
    lines = ['"""Advance widths in pt of the Computer Modern fonts, from their TFM files (scripts/cm_widths.py wrote',
             'this file; do not edit). WIDTHS[font][character] for printable ASCII; SIGMA and TIMES per size."""', '',
             f'ASCII = {ASCII!r}', '', '_TABLES = {']
    symbols = {}
    for name, chars in FONTS.items():
        found = subprocess.run(['kpsewhich', f'{name}.tfm'], capture_output=True, text=True, check=True).stdout.strip()
        _, widths = tfm_widths(Path(found))
        if chars is None:
            # the widths of ASCII's characters, in its order
            text = ', '.join(f'{widths[ord(ch)]:g}' for ch in ASCII)
            lines.append(f'    {name!r}: (')
            lines += textwrap.wrap(text, 112, initial_indent=' ' * 8, subsequent_indent=' ' * 8)
            lines.append('    ),')
        else:
            symbols[name] = widths[chars[0]]
    lines += ['}', 'WIDTHS = {name: dict(zip(ASCII, widths)) for name, widths in _TABLES.items()}', '']
    lines.append('SIGMA = ' + repr({int(n[4:]): w for n, w in symbols.items() if n.startswith('cmmi')}))
    lines.append('TIMES = ' + repr({int(n[4:]): w for n, w in symbols.items() if n.startswith('cmsy')}))
    OUT.write_text('\n'.join(lines) + '\n')
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
