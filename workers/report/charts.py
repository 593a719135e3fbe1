"""The report's charts as PNG bytes (matplotlib's object API: no pyplot state, safe in threads)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workers.report.figures import AnnualReport
from workers.report.tables import month_name, stage_name

GROUPED_IROS_MAX = 8  # beyond this a bar per IRO is unreadable: show the average per IRO instead
COLOURS = ("#1f4e79", "#2e75b6", "#9dc3e6", "#548235", "#a9d18e", "#c55a11", "#f4b183", "#7f7f7f")


@dataclass(frozen=True)
class Style:
    """Sizes for where the chart is seen. In print (the Word report, 220 mm wide) 7 pt labels read
    well; on the page a chart is shown about 560 px wide, so it is drawn that size with labels of
    at least 12 px (WCAG-minded, issue 18), rather than shrunk from the print size."""

    dpi: int
    scale: float  # of the print size, in inches
    small: float  # ticks and legends, points
    title: float


PRINT = Style(dpi=150, scale=1.0, small=7, title=10)
SCREEN = Style(dpi=100, scale=0.75, small=9.5, title=11)  # 9.5 pt at 100 dpi: 13 px


def _figure(style: Style, width: float = 8.0, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * style.scale, height * style.scale), dpi=style.dpi,
                 layout="constrained")
    ax = fig.add_subplot()
    ax.tick_params(labelsize=style.small)
    return fig, ax


def _png(fig: Any) -> bytes:
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:  # counts: whole numbers from zero
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def reviews_per_iro_month(report: AnnualReport, names: Mapping[str, str] | None = None,
                          style: Style = PRINT) -> bytes:
    """Reviews held each month: a bar per IRO (up to eight, labelled by ``names`` where the
    directory knows them), else the average per IRO."""
    v = report.reviews
    names = names or {}
    months = v.months
    labels = [month_name(y, m).replace(" ", "\n") for y, m in months]
    fig, ax = _figure(style)
    counts = {(m.iro, m.year, m.month): m.reviews for m in v.per_iro_month}
    if 0 < len(v.iros) <= GROUPED_IROS_MAX:
        width = 0.8 / len(v.iros)
        for i, iro in enumerate(v.iros):
            xs = [x + (i - (len(v.iros) - 1) / 2) * width for x in range(len(months))]
            ax.bar(xs, [counts.get((iro, y, m), 0) for y, m in months], width,
                   label=names.get(iro, iro.split("@")[0]), color=COLOURS[i % len(COLOURS)])
        ax.legend(fontsize=style.small, ncols=len(v.iros), loc="upper center",
                  bbox_to_anchor=(0.5, -0.22), frameon=False)
        ax.set_ylabel("Reviews held", fontsize=style.small)
    else:
        averages = []
        for y, m in months:
            held = [n for (_iro, yy, mm), n in counts.items() if (yy, mm) == (y, m)]
            averages.append(sum(held) / len(v.iros))  # the plain rate, as the tables give it
        ax.bar(range(len(months)), averages, 0.6, color=COLOURS[0])
        ax.set_ylabel("Average reviews per IRO", fontsize=style.small)
    ax.set_xticks(range(len(months)), labels, fontsize=style.small)
    ax.set_title(f"Reviews held per IRO per month, {report.period.label}", fontsize=style.title)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def escalations_by_stage(report: AnnualReport, style: Style = PRINT) -> bytes:
    """Children whose escalation was resolved at each stage, a group of bars per year."""
    years = tuple(reversed(report.escalations))
    stages = list(report.stages) + ["open"]
    fig, ax = _figure(style, height=3.2)
    width = 0.8 / max(len(years), 1)
    for i, year in enumerate(years):
        values = [year.resolved_by_stage.get(s, 0) for s in report.stages] + [year.open]
        xs = [x + (i - (len(years) - 1) / 2) * width for x in range(len(stages))]
        ax.bar(xs, values, width, label=year.period.label, color=COLOURS[i % len(COLOURS)])
    names = [stage_name(s) if s != "open" else "Not yet resolved" for s in stages]
    ax.set_xticks(range(len(stages)), [n.replace(" ", "\n", 1) for n in names],
                  fontsize=style.small)
    ax.set_ylabel("Children", fontsize=style.small)
    ax.set_title("Escalations by the stage at which they were resolved", fontsize=style.title)
    ax.legend(fontsize=style.small, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
