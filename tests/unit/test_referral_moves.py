"""The one transition table (``referrals/models/referral.py``): every (state, pause, move) pair,
walked whole. A move outside the table is refused with words a person can read."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from referrals.models.referral import MOVES, OPEN_STATES, Need, ReferralState, Transition

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FACTS = [
    frozenset(chosen)
    for size in range(len(Need) + 1)
    for chosen in itertools.combinations(list(Need), size)
]
ALL = list(itertools.product(ReferralState, (False, True), FACTS, Transition))


def test_every_transition_is_in_the_table() -> None:
    assert set(MOVES) == set(Transition)


@pytest.mark.parametrize(("state", "paused", "facts", "transition"), ALL)
def test_the_table_decides_every_pair(
    state: ReferralState, paused: bool, facts: frozenset[Need], transition: Transition
) -> None:
    move = MOVES[transition]
    refusal = move.refusal(state, paused, facts)
    allowed = (
        state in move.sources
        and (move.paused is None or move.paused == paused)
        and (move.needs is None or move.needs in facts)
    )
    assert (refusal is None) == allowed
    if refusal is not None:
        # A sentence for a person: no enum names, no stack trace, says what stops it.
        assert refusal.startswith(("This referral", "The desk has", "This decision"))
        assert "Transition." not in refusal and "ReferralState." not in refusal
        if state not in move.sources:
            assert state.label.lower() in refusal
            with pytest.raises(ValueError, match="cannot be"):
                move.target_from(state)
    else:
        assert move.target_from(state) == (move.target or state)


def test_closed_referrals_accept_no_change() -> None:
    closed = [s for s in ReferralState if s not in OPEN_STATES]
    assert closed == [ReferralState.DECIDED, ReferralState.DECLINED, ReferralState.WITHDRAWN]
    # Closed referrals change no more, but for the desk's own bookkeeping of an answer.
    desk_work = {Transition.ACCEPT_DECLINE, Transition.REROUTE, Transition.MARK_SEEN}
    for state in closed:
        movable = {t for t, m in MOVES.items() if state in m.sources and m.versioned}
        assert movable <= desk_work, f"{state.value} can still be changed by {movable}"
        assert all(MOVES[t].target is None and MOVES[t].needs for t in movable)
    # The desk may still answer a question on a referral the partner answered.
    assert MOVES[Transition.ANSWER].refusal(ReferralState.DECLINED, False) is None
    assert MOVES[Transition.ANSWER].refusal(ReferralState.WITHDRAWN, False) is not None


def test_only_sending_creates_a_referral() -> None:
    assert MOVES[Transition.SEND].sources == frozenset()
    assert all(MOVES[t].sources for t in Transition if t is not Transition.SEND)


def test_templates_ask_the_model_never_compare_state_strings() -> None:
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "state.value ==" in path.read_text() or "state.value !=" in path.read_text()
    ]
    assert offenders == []
