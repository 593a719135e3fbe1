"""Words on a PDF page with their positions in mm from the page's top-left corner
(poppler's ``pdftotext -bbox``), for tests of where things print."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

MM_PER_PT = 25.4 / 72
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


@dataclass(frozen=True)
class Word:
    text: str
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, box: tuple[float, float, float, float]) -> bool:
        left, top, right, bottom = box
        return self.left < right and self.right > left and self.top < bottom and self.bottom > top

    def inside(self, box: tuple[float, float, float, float], slack: float = 0.2) -> bool:
        """Within ``box``, give or take ``slack`` mm of rounding (PDF points to mm)."""
        left, top, right, bottom = box
        return (self.left >= left - slack and self.right <= right + slack
                and self.top >= top - slack and self.bottom <= bottom + slack)


def words(pdf: Path, page: int) -> list[Word]:
    """The words of page ``page`` (1-based)."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [Word(html.unescape(m[5]), *(float(m[i]) * MM_PER_PT for i in range(1, 5)))
            for m in _WORD.finditer(out)]
