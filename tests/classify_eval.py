"""Scoring a reply classifier against the labeled replies: per-label precision and recall.

The rules' tests assert floors with it; the benchmark reuses it to score the AI step the
same way. `python -m tests.classify_eval` prints the rules' table.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from console.services.replies.classify import LABELS, Classification, by_rules

LABELED = Path(__file__).parent / "data" / "replies_labeled.csv"


@dataclass(frozen=True)
class LabelScore:
    """How one label fared: replies that carry it, replies given it, and the overlap."""

    label: str
    support: int  # replies labeled with it
    predicted: int  # replies the classifier gave it
    correct: int  # replies labeled with it and given it

    @property
    def precision(self) -> float:
        """Share of the replies given this label that carry it (1.0 when none were given it)."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of the replies carrying this label that were given it (1.0 when none carry it)."""
        return self.correct / self.support if self.support else 1.0


def load_labeled(path: Path = LABELED) -> list[dict[str, str]]:
    """The labeled replies, one dict (`text`, `label`) a row."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def predict(
    rows: Iterable[dict[str, str]], classify: Callable[[str], Classification] = by_rules
) -> list[tuple[str, str]]:
    """(expected, predicted) label pairs for the rows, by `classify`."""
    return [(row["label"], classify(row["text"]).label) for row in rows]


def accuracy(pairs: Iterable[tuple[str, str]]) -> float:
    """Share of (expected, predicted) pairs that agree."""
    pairs = list(pairs)
    return sum(expected == got for expected, got in pairs) / len(pairs) if pairs else 0.0


def accuracy_by_label(rows: Iterable[tuple[str, str]]) -> dict[str, LabelScore]:
    """Per-label counts, precision and recall from (expected, predicted) pairs, in LABELS order."""
    pairs = list(rows)
    return {
        label: LabelScore(
            label,
            support=sum(expected == label for expected, _ in pairs),
            predicted=sum(got == label for _, got in pairs),
            correct=sum(expected == got == label for expected, got in pairs),
        )
        for label in LABELS
    }


def format_table(pairs: Iterable[tuple[str, str]]) -> str:
    """A plain-text table of per-label scores and the overall accuracy."""
    pairs = list(pairs)
    lines = [f"{'label':<18}{'n':>5}{'given':>7}{'right':>7}{'precision':>11}{'recall':>8}"]
    for score in accuracy_by_label(pairs).values():
        lines.append(
            f"{score.label:<18}{score.support:>5}{score.predicted:>7}{score.correct:>7}"
            f"{score.precision:>11.1%}{score.recall:>8.1%}"
        )
    lines.append(f"overall accuracy {accuracy(pairs):.1%} on {len(pairs)} replies")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(predict(load_labeled())))
