"""The report's charts as PNG bytes (matplotlib's object API: no pyplot state, safe in threads)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from workers.report.figures import AnnualReport
from workers.report.tables import month_name, stage_name

GROUPED_IROS_MAX = 8  # beyond this a bar per IRO is unreadable: show the average per IRO instead
COLOURS = ("#1f4e79", "#2e75b6", "#9dc3e6", "#548235", "#a9d18e", "#c55a11", "#f4b183", "#7f7f7f")


def _figure(width: float = 8.0, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150, layout="constrained")
    return fig, fig.add_subplot()


def _png(fig: Any) -> bytes:
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:  # counts: whole numbers from zero
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def reviews_per_iro_month(report: AnnualReport, names: Mapping[str, str] | None = None) -> bytes:
    """Reviews held each month: a bar per IRO (up to eight, labelled by ``names`` where the
    directory knows them), else the average per IRO."""
    v = report.reviews
    names = names or {}
    months = v.months
    labels = [month_name(y, m).replace(" ", "\n") for y, m in months]
    fig, ax = _figure()
    counts = {(m.iro, m.year, m.month): m.reviews for m in v.per_iro_month}
    if 0 < len(v.iros) <= GROUPED_IROS_MAX:
        width = 0.8 / len(v.iros)
        for i, iro in enumerate(v.iros):
            xs = [x + (i - (len(v.iros) - 1) / 2) * width for x in range(len(months))]
            ax.bar(xs, [counts.get((iro, y, m), 0) for y, m in months], width,
                   label=names.get(iro, iro.split("@")[0]), color=COLOURS[i % len(COLOURS)])
        ax.legend(fontsize=7, ncols=len(v.iros), loc="upper center",
                  bbox_to_anchor=(0.5, -0.22), frameon=False)
        ax.set_ylabel("Reviews held")
    else:
        averages = []
        for y, m in months:
            held = [n for (_iro, yy, mm), n in counts.items() if (yy, mm) == (y, m)]
            averages.append(sum(held) / len(v.iros))  # the plain rate, as the tables give it
        ax.bar(range(len(months)), averages, 0.6, color=COLOURS[0])
        ax.set_ylabel("Average reviews per IRO")
    ax.set_xticks(range(len(months)), labels, fontsize=7)
    ax.set_title(f"Reviews held per IRO per month, {report.period.label}", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def escalations_by_stage(report: AnnualReport) -> bytes:
    """Children whose escalation was resolved at each stage, a group of bars per year."""
    years = tuple(reversed(report.escalations))
    stages = list(report.stages) + ["open"]
    fig, ax = _figure(height=3.2)
    width = 0.8 / max(len(years), 1)
    for i, year in enumerate(years):
        values = [year.resolved_by_stage.get(s, 0) for s in report.stages] + [year.open]
        xs = [x + (i - (len(years) - 1) / 2) * width for x in range(len(stages))]
        ax.bar(xs, values, width, label=year.period.label, color=COLOURS[i % len(COLOURS)])
    names = [stage_name(s) if s != "open" else "Not yet resolved" for s in stages]
    ax.set_xticks(range(len(stages)), [n.replace(" ", "\n", 1) for n in names], fontsize=7)
    ax.set_ylabel("Children")
    ax.set_title("Escalations by the stage at which they were resolved", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
