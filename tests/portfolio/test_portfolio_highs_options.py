"""Which HiGHS options each kind of solve runs with, and that they never outlive the solve.

bigov changes a few HiGHS defaults where a solve's time goes on the proof (solver.PROOF_OPTIONS,
search.MAIN_OPTIONS, frontier.FRONTIER_OPTIONS), while plain HiGHS (``solve(search=False)``) and
the cold frontier must stay HiGHS as shipped: they are the benchmarks' baselines. Every call of
``SelectionModel.run`` is recorded with the options its instance has at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import highspy
import pytest
from portfolio_random import correlated_knapsack

from bigov.portfolio.frontier import FRONTIER_OPTIONS, compute_frontier
from bigov.portfolio.search import MAIN_OPTIONS
from bigov.portfolio.solver import PROOF_OPTIONS, SelectionModel, highs_options, solve

NAMES = sorted({*FRONTIER_OPTIONS, *MAIN_OPTIONS, *PROOF_OPTIONS})


def shipped() -> dict[str, bool]:
    """HiGHS's own defaults, read from a fresh instance (not assumed)."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    return {name: h.getOptionValue(name)[1] for name in NAMES}


def options_of(model: SelectionModel) -> dict[str, bool]:
    return {name: model.h.getOptionValue(name)[1] for name in NAMES}


def expect(changed: Mapping[str, bool]) -> dict[str, bool]:
    return {**shipped(), **changed}


class Recorder:
    """Wraps SelectionModel.run: the options at each call, and the models it ran on."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, bool]] = []
        self.models: list[SelectionModel] = []
        self.fail = fail


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    real = SelectionModel.run

    def run(self: SelectionModel, **kwargs: Any) -> highspy.HighsModelStatus:
        rec.calls.append(options_of(self))
        rec.models.append(self)
        if rec.fail:
            raise RuntimeError("solver failed")
        return real(self, **kwargs)

    monkeypatch.setattr(SelectionModel, "run", run)
    return rec


def test_plain_highs_runs_as_shipped(recorder: Recorder) -> None:
    solve(correlated_knapsack(20, 3, seed=2), time_limit=2, search=False)
    assert recorder.calls == [shipped()]


def test_a_solve_without_time_limit_proves_with_proof_options(recorder: Recorder) -> None:
    solve(correlated_knapsack(20, 3, seed=2))
    assert recorder.calls == [expect(PROOF_OPTIONS)]
    assert options_of(recorder.models[0]) == shipped()  # put back after the solve


def test_the_main_solve_beside_the_search_runs_with_main_options(recorder: Recorder) -> None:
    solve(correlated_knapsack(40, 3, seed=2), time_limit=2)
    assert recorder.calls == [expect(MAIN_OPTIONS)]
    assert MAIN_OPTIONS["mip_heuristic_run_rins"] is False
    assert options_of(recorder.models[0]) == shipped()


@pytest.mark.parametrize("workers", [1, 2])
def test_warm_frontier_levels_run_with_frontier_options(recorder: Recorder, workers: int) -> None:
    compute_frontier(correlated_knapsack(20, 3, seed=4), 8, start="zero", workers=workers)
    assert len(recorder.calls) >= 4
    assert all(call == expect(FRONTIER_OPTIONS) for call in recorder.calls)
    assert all(options_of(m) == shipped() for m in recorder.models)


def test_cold_frontier_levels_run_as_shipped(recorder: Recorder) -> None:
    compute_frontier(correlated_knapsack(20, 3, seed=4), 8, start="zero", warm=False)
    assert len(recorder.calls) == 8
    assert all(call == shipped() for call in recorder.calls)


def test_options_are_put_back_when_the_solve_fails(recorder: Recorder) -> None:
    recorder.fail = True
    with pytest.raises(RuntimeError, match="solver failed"):
        solve(correlated_knapsack(20, 3, seed=2))
    assert recorder.calls == [expect(PROOF_OPTIONS)]
    assert options_of(recorder.models[0]) == shipped()


def test_an_option_highs_refuses_is_an_error_not_a_silent_default() -> None:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    unknown = {"mip_allow_cut_separation_at_node": False}  # a typo of the real name
    with pytest.raises(ValueError, match="at_node="), highs_options(h, unknown):
        pass
    wrong_type: Any = {"mip_allow_restart": 0}
    with pytest.raises(ValueError, match="mip_allow_restart"), highs_options(h, wrong_type):
        pass
    assert h.getOptionValue("mip_allow_restart")[1] is True
