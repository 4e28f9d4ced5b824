"""The night as a picture: who was inside when, with shelterwatch and without it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelterwatch.simulate.run import Result


def write(result: Result, path: Path) -> None:
    """A PNG: residents through an open door over time, and the door figures side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan, n = result.plan, max(1, result.night.residents)
    fig, (curve, bars) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=(3, 2))
    for journeys, label, colour in ((result.journeys, "with shelterwatch", "#1a7f37"),
                                    (result.baseline_journeys, "without (baseline)", "#b42318")):
        times = sorted(t for j in journeys if (t := j.sheltered_at) is not None)
        curve.step([0.0, *times, plan.night_s], [0.0, *(i / n for i in
                                                        range(1, len(times) + 1)),
                                                 len(times) / n],
                   where="post", label=label, color=colour)
    curve.axvline(plan.warning_s, color="#555", linestyle="--", linewidth=1)
    curve.text(plan.warning_s, 0.02, f" {plan.threat} arrives ({plan.warning_s:.0f} s)",
               color="#555", fontsize=8)
    curve.set_xlim(0, plan.night_s)
    curve.set_ylim(0, 1)
    curve.set_xlabel("seconds after the alert")
    curve.set_ylabel("share of residents through an open door")
    curve.legend(loc="lower right")
    curve.grid(alpha=0.3)
    figures = [("reached a door\nalready reported locked",
                result.night.share(result.night.locked_after_report),
                result.baseline.share(result.baseline.locked_after_report)),
               ("inside within\nthe warning time",
                result.night.share(result.night.sheltered_in_warning),
                result.baseline.share(result.baseline.sheltered_in_warning)),
               ("inside by the end",
                result.night.share(result.night.sheltered),
                result.baseline.share(result.baseline.sheltered))]
    xs = range(len(figures))
    for offset, column, colour, label in ((-0.2, 1, "#1a7f37", "with"),
                                          (0.2, 2, "#b42318", "without")):
        drawn = bars.bar([x + offset for x in xs], [f[column] for f in figures], 0.4,
                         color=colour, label=label)
        bars.bar_label(drawn, labels=[f"{100 * float(f[column]):.1f}%" for f in figures],
                       fontsize=7)
    bars.set_xticks(list(xs), [f[0] for f in figures], fontsize=8)
    bars.set_ylim(0, max(0.05, 1.25 * max(max(float(f[1]), float(f[2])) for f in figures)))
    bars.set_ylabel("share of residents")
    bars.legend()
    bars.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{plan.name}: {result.night.residents:,} residents, {result.shelters:,} "
                 f"shelters ({', '.join(result.districts[:3])}"
                 f"{'…' if len(result.districts) > 3 else ''}), seed {result.options.seed}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
