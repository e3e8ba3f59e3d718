"""`trustsim lab`: the default population, playing with the market's rules, lands on the published results
(docs/model.md, "Calibration"). Each target's tolerance is the one the calibration promises: MODEL's one
standard error of the published share for the control game's responses (binomial, its 72 subjects); the
sample is large enough (100,000) that sampling error is far smaller than the tolerance."""
from __future__ import annotations

import json
import math

import pytest

from conftest import trustsim


def lab(game: str, seed: int = 1) -> dict:
    return json.loads(trustsim("lab", game, "--json", "--seed", seed).stdout)


@pytest.mark.parametrize("seed", [1, 2])
def test_investment_game(seed):
    r = lab("investment", seed)
    assert r["game"] == "investment" and r["n"] == 100000
    assert r["mean_sent_fraction"] == pytest.approx(0.50, abs=0.05)
    assert r["mean_returned_fraction"] == pytest.approx(0.37, abs=0.05)
    assert r["return_slope"] - 3 * r["se_return_slope"] > 0  # returns rise with the amount sent


@pytest.mark.parametrize("seed", [1, 2])
def test_hidden_costs_of_control(seed):
    r = lab("control", seed)
    assert r["mean_choice_trusted"] == pytest.approx(22.99, abs=1.4)
    assert r["mean_choice_controlled"] == pytest.approx(17.53, abs=1.4)
    for share, published in [("share_negative", 0.57), ("share_neutral", 0.18), ("share_positive", 0.25)]:
        assert r[share] == pytest.approx(published, abs=math.sqrt(published * (1 - published) / 72)), share
    assert r["share_negative"] + r["share_neutral"] + r["share_positive"] == pytest.approx(1)


def test_lab_reads_a_scenario(tmp_path):
    """The games use the scenario's dispositions: employees who do not reciprocate do not respond to control."""
    scenario = tmp_path / "flat.yaml"
    scenario.write_text("firms: [{name: A}]\nemployees: {reciprocity: 0}\n")
    r = json.loads(trustsim("lab", "control", "--json", "--scenario", scenario, "--n", 5000).stdout)
    assert r["share_negative"] == 0
