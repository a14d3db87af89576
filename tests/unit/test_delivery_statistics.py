"""The delivery diagnosis's statistics: the arithmetic against scipy, the per-domain test's
power and false alarms on simulated campaigns, and the verdict staff get."""
from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from chalicelib.services.campaigns.delivery_statistics import (
    GENERAL_PROBLEM,
    GENERAL_PROBLEM_DOMAIN,
    ISOLATED_CASES,
    TOO_EARLY,
    CampaignTotals,
    DomainCounts,
    benjamini_hochberg,
    binomial_cdf,
    domain_tests,
    normal_quantile,
    verdict,
    wilson_interval,
)

# --- Arithmetic against scipy ---------------------------------------------------------------

PROBABILITIES = (1e-300, 1e-12, 1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.62, 0.9, 0.99, 1 - 1e-6,
                 1 - 1e-12)


def assert_close(ours: float, reference: float, rel: float = 1e-9) -> None:
    # Under ~1e-240 scipy itself drifts (0.5% off at 1e-285, see the exact test below).
    assert ours == pytest.approx(float(reference), rel=rel, abs=1e-240)


@pytest.mark.parametrize("n", (1, 2, 7, 40, 333, 5_000, 100_000))
@pytest.mark.parametrize("p", PROBABILITIES)
def test_binomial_cdf_matches_scipy_across_the_range(n, p):
    spread = math.sqrt(n * p * (1 - p))
    ks = {0, 1, n // 2, n - 1, n}
    ks |= {round(n * p + s * spread) for s in (-8, -4, -1, 0, 1, 4, 8)}
    for k in sorted(k for k in ks if 0 <= k <= n):
        assert_close(binomial_cdf(k, n, p), stats.binom.cdf(k, n, p))


@given(st.integers(1, 100_000), st.floats(0, 1), st.floats(1e-9, 1 - 1e-9))
def test_binomial_cdf_matches_scipy_anywhere(n, where, p):
    k = round(where * n)
    assert_close(binomial_cdf(k, n, p), stats.binom.cdf(k, n, p))


@pytest.mark.parametrize("k,n,p", [(37, 145, 0.9989005731812707), (16, 709, 0.654574671621555),
                                   (0, 40, 0.62), (3, 40, 0.62), (29, 30, 0.999), (120, 1000, 0.3)])
def test_binomial_cdf_is_exact_in_the_far_tail(k, n, p):
    exact = sum(math.comb(n, i) * Fraction(p) ** i * (1 - Fraction(p)) ** (n - i) for i in range(k + 1))
    assert abs(Fraction(binomial_cdf(k, n, p)) - exact) / exact < 1e-12


def test_binomial_cdf_at_the_edges():
    assert binomial_cdf(-1, 10, 0.3) == 0.0
    assert binomial_cdf(10, 10, 0.3) == 1.0
    assert binomial_cdf(0, 10, 0.0) == 1.0
    assert binomial_cdf(9, 10, 1.0) == 0.0
    assert binomial_cdf(0, 0, 0.3) == 1.0
    assert binomial_cdf(0, 15, 0.7) == pytest.approx(0.3**15, rel=1e-13)
    with pytest.raises(ValueError):
        binomial_cdf(1, 10, 1.5)


@pytest.mark.parametrize("probability", (1e-300, 1e-20, 1e-9, 1e-4, 0.005, 0.02, 0.02425, 0.025,
                                         0.1, 0.3, 0.5, 0.7, 0.975, 0.995, 1 - 1e-10))
def test_normal_quantile_matches_scipy(probability):
    assert_close(normal_quantile(probability), stats.norm.ppf(probability), rel=1e-12)


@pytest.mark.parametrize("confidence", (0.9, 0.95, 0.99))
@pytest.mark.parametrize("successes,n", [(0, 1), (1, 1), (0, 5), (3, 40), (37, 40), (40, 40),
                                         (1, 100_000), (620, 1000), (50_000, 100_000)])
def test_wilson_interval_matches_scipy(successes, n, confidence):
    reference = stats.binomtest(successes, n).proportion_ci(confidence, method="wilson")
    low, high = wilson_interval(successes, n, confidence)
    assert low == pytest.approx(reference.low, rel=1e-9, abs=1e-15)
    assert high == pytest.approx(reference.high, rel=1e-9, abs=1e-15)


def test_wilson_interval_of_nobody_is_everything():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


@given(st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.01, 0.01, 1.0])), max_size=60))
def test_benjamini_hochberg_matches_scipy(p_values):
    adjusted = benjamini_hochberg(p_values)
    if p_values:
        expected = stats.false_discovery_control(p_values, method="bh")
        assert adjusted == pytest.approx(list(expected), rel=1e-12, abs=1e-300)
    assert all(p <= q <= 1 for p, q in zip(p_values, adjusted))
    by_p = [q for _, q in sorted(zip(p_values, adjusted))]
    assert by_p == sorted(by_p)  # a smaller p-value never gets a larger q-value


# --- The per-domain test --------------------------------------------------------------------

HEALTHY_SIZES = (3, 5, 8, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 600)
"""20 recipient domains of a theatre's ~2,800 customers: a long tail of small providers and
company domains, and a few big ones."""


def simulated_campaign(rng: random.Random, rate: float, dropped_size: int = 0) -> dict[str, DomainCounts]:
    """Each healthy domain's customers react with probability ``rate``; ``dropped.fr``, if any,
    silently drops every mail."""
    campaign = {f"provider{i}.fr": DomainCounts(n, sum(rng.random() < rate for _ in range(n)))
                for i, n in enumerate(HEALTHY_SIZES)}
    if dropped_size:
        campaign["dropped.fr"] = DomainCounts(dropped_size, 0)
    return campaign


def detection(dropped_size: int, runs: int = 200) -> tuple[float, float]:
    """Share of runs where dropped.fr is flagged, and where any healthy domain is."""
    caught = false_alarms = 0
    for seed in range(runs):
        tests = domain_tests(simulated_campaign(random.Random(seed), 0.30, dropped_size))
        caught += any(t.suspected for t in tests if t.domain == "dropped.fr")
        false_alarms += any(t.suspected for t in tests if t.domain != "dropped.fr")
    return caught / runs, false_alarms / runs


def test_a_domain_dropping_every_mail_is_caught_from_23_recipients():
    # At a 30% baseline, 0 reactions of n has p = 0.7^n, and Benjamini–Hochberg over the ~17
    # domains big enough to be judged needs p under about 0.01 / 17, so n >= 22 at best: 15
    # recipients (p = 0.005) can never be flagged at the 1% level. Measured: 22 recipients are
    # caught in 90.5% of runs, 23 in 99.5%.
    caught, false_alarms = detection(23)
    assert caught >= 0.95
    assert false_alarms <= 0.01
    assert detection(22)[0] < 0.95  # so 23 is the smallest size reliably caught


@pytest.mark.parametrize("rate", (0.30, 0.62))
def test_healthy_campaigns_rarely_raise_a_false_suspicion(rate):
    # Measured: 1 campaign in 1,000 at either rate.
    flagged = sum(any(t.suspected for t in domain_tests(simulated_campaign(random.Random(10_000 + seed), rate)))
                  for seed in range(1000))
    assert flagged / 1000 <= 0.01


def the_orange_campaign() -> dict[str, DomainCounts]:
    """The Nov 2020 case: orange.fr silently deleting most of our mails, the rest at ~62%."""
    return {
        "orange.fr": DomainCounts(40, 3), "gmail.com": DomainCounts(420, 262),
        "free.fr": DomainCounts(130, 80), "sfr.fr": DomainCounts(90, 57),
        "hotmail.fr": DomainCounts(85, 52), "laposte.net": DomainCounts(60, 36),
        "yahoo.fr": DomainCounts(55, 35), "wanadoo.fr": DomainCounts(35, 22),
        "outlook.fr": DomainCounts(30, 19), "icloud.com": DomainCounts(25, 16),
        "neuf.fr": DomainCounts(14, 8), "bbox.fr": DomainCounts(12, 7),
        "theatre-lyon.fr": DomainCounts(4, 1),
    }


def test_the_silent_domain_is_flagged_first_and_explained():
    tests = domain_tests(the_orange_campaign())
    orange = tests[0]
    assert orange.domain == "orange.fr" and orange.suspected
    assert [t.domain for t in tests if t.suspected] == ["orange.fr"]
    assert orange.reaction_rate == 0.075
    assert (round(orange.low, 3), round(orange.high, 3)) == (0.026, 0.199)
    assert orange.baseline_rate == 595 / 960
    assert orange.p_value == binomial_cdf(3, 40, 595 / 960)
    assert orange.q_value < 1e-9
    assert orange.explanation.startswith(
        "3 of 40 recipients at orange.fr reacted (7.5%, 95% CI 2.6–19.9%) against 62% elsewhere; "
        "the chance of so few reactions if orange.fr behaved like the rest is less than 1 in a billion "
        "(adjusted for 12 domains tested)")
    json.dumps([t.as_dict() for t in tests])


def test_a_small_domain_is_reported_but_too_small_to_tell():
    small = next(t for t in domain_tests(the_orange_campaign()) if t.domain == "theatre-lyon.fr")
    assert not small.tested and not small.suspected and small.p_value is None
    assert small.explanation == ("1 of 4 recipients at theatre-lyon.fr reacted (25%, 95% CI 4.6–69.9%) "
                                 "against 59.9% elsewhere; too few recipients to tell "
                                 "(even 0 of 4 could be chance).")


def test_a_domain_reacting_a_little_less_is_not_blamed():
    # 2,000 customers at 55% against 62% elsewhere: real (p ~ 1e-10) but not a provider
    # dropping mails; resending to 2,000 customers would be the wrong answer.
    tests = domain_tests({"gmail.com": DomainCounts(2000, 1100), "orange.fr": DomainCounts(3000, 1860)})
    gmail = next(t for t in tests if t.domain == "gmail.com")
    assert gmail.q_value < 1e-6 and not gmail.suspected
    assert gmail.explanation.endswith("but the gap is too small to blame the domain.")


def test_nothing_to_compare_with():
    alone = domain_tests({"gmail.com": DomainCounts(50, 10)})
    assert not alone[0].tested and not alone[0].suspected
    assert alone[0].explanation == "All 50 recipients are at gmail.com: there is no other domain to compare it with."

    nobody_elsewhere = domain_tests({"gmail.com": DomainCounts(50, 0), "free.fr": DomainCounts(50, 0)})
    assert not any(t.tested or t.suspected for t in nobody_elsewhere)
    assert "nobody reacted at the other domains" in nobody_elsewhere[0].explanation

    empty = domain_tests({"gmail.com": DomainCounts(0, 0), "free.fr": DomainCounts(30, 12)})
    assert next(t for t in empty if t.domain == "gmail.com").explanation == "No recipients at gmail.com."
    assert not any(t.tested for t in empty)


def test_everyone_else_reacting_does_not_condemn_one_silent_customer():
    tests = domain_tests({"gmail.com": DomainCounts(50, 50), "free.fr": DomainCounts(30, 29)})
    free = next(t for t in tests if t.domain == "free.fr")
    assert free.p_value == 0.0 and not free.suspected  # the exact test says 0; the effect is tiny
    dropping = domain_tests({"gmail.com": DomainCounts(50, 50), "free.fr": DomainCounts(30, 0)})
    assert [t.domain for t in dropping if t.suspected] == ["free.fr"]


def test_counts_that_cannot_be_are_refused():
    with pytest.raises(ValueError):
        domain_tests({"gmail.com": DomainCounts(10, 11)})


# --- The verdict ----------------------------------------------------------------------------

def totals_of(campaign: dict[str, DomainCounts], bounced: int = 0, complained: int = 0) -> CampaignTotals:
    return CampaignTotals(sum(c.recipients for c in campaign.values()),
                          sum(c.reacted for c in campaign.values()), bounced, complained)


def test_before_five_days_it_is_too_early_unless_staff_insist():
    campaign = the_orange_campaign()
    tests = domain_tests(campaign)
    early = verdict(3, totals_of(campaign), tests)
    assert early.outcome == TOO_EARLY and early.suspected_domains == []
    assert early.action == "Wait 2 more days before judging the silence."
    assert verdict(4.5, totals_of(campaign), tests).action == "Wait 1 more day before judging the silence."
    assert verdict(3, totals_of(campaign), tests, override=True).outcome == GENERAL_PROBLEM_DOMAIN
    assert verdict(5, totals_of(campaign), tests).outcome == GENERAL_PROBLEM_DOMAIN


def test_a_silent_domain_means_reset_and_resend_to_that_domain():
    campaign = the_orange_campaign()
    result = verdict(6, totals_of(campaign, bounced=4), domain_tests(campaign))
    # Overall silence is 41%, but the point is where it is.
    assert result.outcome == GENERAL_PROBLEM_DOMAIN
    assert result.suspected_domains == ["orange.fr"]
    assert "orange.fr still in “mail sent”" in result.action and "plainer mail" in result.action
    assert "3 of 40 recipients at orange.fr reacted" in result.explanation
    json.dumps(result.as_dict())


def test_silence_everywhere_means_check_the_sender_then_resend():
    campaign = {domain: DomainCounts(counts.recipients, round(counts.recipients * 0.45))
                for domain, counts in the_orange_campaign().items() if domain != "orange.fr"}
    result = verdict(7, totals_of(campaign, bounced=6, complained=3), domain_tests(campaign))
    assert result.outcome == GENERAL_PROBLEM and result.suspected_domains == []
    assert result.silence_rate > 0.40
    assert "SPF, DKIM, DMARC" in result.action and "plainer mail" in result.action
    assert "3 complaints" in result.explanation


def test_usual_silence_means_fix_addresses_one_by_one():
    campaign = {domain: DomainCounts(counts.recipients, round(counts.recipients * 0.8))
                for domain, counts in the_orange_campaign().items()}
    result = verdict(8, totals_of(campaign, bounced=12), domain_tests(campaign))
    assert result.outcome == ISOLATED_CASES and result.suspected_domains == []
    assert result.action.startswith("Fix the addresses of the customers who have not reacted, the 12 bounced first")
    assert "more than the usual" not in result.explanation

    # 35% silent and spread evenly: still isolated, with a word that it is above the usual.
    grey = {domain: DomainCounts(counts.recipients, round(counts.recipients * 0.65))
            for domain, counts in campaign.items()}
    result = verdict(8, totals_of(grey), domain_tests(grey))
    assert result.outcome == ISOLATED_CASES
    assert "more than the usual 20%" in result.explanation


def test_an_empty_campaign_has_nothing_to_diagnose():
    with pytest.raises(ValueError):
        verdict(10, CampaignTotals(0, 0), [])
