"""The evaluation's table: a system that scored no request shows no figure."""

from __future__ import annotations

from rich.console import Console

from ragrec.evaluation.report import print_report
from ragrec.evaluation.runner import EvalReport, SystemResult


def _metrics(ndcg: float, requests: int) -> dict[str, float]:
    return {
        "ndcg@10": ndcg,
        "precision@5": ndcg,
        "recall@10": ndcg,
        "hr@10": ndcg,
        "map@12": ndcg,
        "coverage": 0.5,
        "requests": requests,
        "p50_ms": 1.0,
        "p95_ms": 2.0,
    }


def _render(report: EvalReport) -> str:
    console = Console(record=True, width=200)
    print_report(report, console)
    return console.export_text()


def test_nothing_scored_prints_no_zeros() -> None:
    report = EvalReport(
        options={"k": 10, "data": "sample", "mode": "homepage"},
        split={"kind": "temporal"},
        graph={},
        systems=[
            SystemResult("popularity", "baseline", _metrics(0.0, 0)),
            SystemResult("ours: rrf", "ours", _metrics(0.0, 0), chosen=True),
        ],
    )
    text = _render(report)
    assert "nothing scored" in text
    assert "0.0000" not in text and text.count("n/a") == 16


def test_scored_rows_show_their_figures() -> None:
    report = EvalReport(
        options={"k": 10, "data": "d", "mode": "homepage"},
        split={"kind": "temporal"},
        graph={},
        systems=[SystemResult("popularity", "baseline", _metrics(0.1234, 50))],
    )
    assert "0.1234" in _render(report) and "n/a" not in _render(report)
