"""Markdown building blocks shared by the report's sections."""
from __future__ import annotations


def md_table(headers: list[str], lines: list[list]) -> str:
    def esc(x):
        return str(x).replace('|', r'\|')
    out = ['| ' + ' | '.join(esc(h) for h in headers) + ' |', '|' + '---|' * len(headers)]
    out += ['| ' + ' | '.join(esc(c) for c in line) + ' |' for line in lines]
    return '\n'.join(out) + '\n'
