"""The statistics of a campaign's delivery diagnosis: are the silent customers isolated cases
(wrong addresses) or is a mail provider silently dropping our mails? Pure Python, no I/O.

It owns the arithmetic (exact binomial tail, Wilson interval, normal quantile,
Benjamini–Hochberg), the per-recipient-domain test, and the verdict with its suggested action.
Counting reactions, bounces and domains from the campaign's customers is the caller's job.

No scipy or numpy: this runs in Lambda, where they would cost tens of MB and a slower cold
start for a few dozen lines of arithmetic. The tests check every function against scipy.

Why a test per domain against the *rest* of the campaign, not against 100%: some customers
never react on purpose (they abandon the amount), so the normal reaction rate is well below
100% and is only known from the campaign itself. A domain is suspected when it reacts
clearly less than all the other domains pooled.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

MIN_DAYS_BEFORE_DIAGNOSIS = 5
"""Field rule: customers take a few days to open a mail; before 5 days silence means little."""
USUAL_SILENCE = 0.20
"""Field rule of thumb: about 20% of customers not reacting is the usual level (isolated cases)."""
GENERAL_SILENCE = 0.40
"""Field rule of thumb: over 40% not reacting is a general problem, not isolated cases."""
SUSPICION_LEVEL = 0.01
"""Adjusted p-value (q-value) under which a domain is suspected. Strict on purpose: a false
suspicion makes staff reset and resend to thousands of customers who already had the mail."""
CONFIDENCE = 0.95
"""Confidence of the Wilson intervals shown to staff and used for the practical-effect rule."""
MAX_RATE_RATIO = (1 - GENERAL_SILENCE) / (1 - USUAL_SILENCE)
"""Practical effect (0.75): a domain is suspected only if even its Wilson upper bound is at most
3/4 of the rest's rate, the same drop that separates the field's usual 80% reacting from the
60% of a general problem. Without it a big domain a few points below the rest is flagged, and
healthy campaigns got a false suspicion in 1.3% of simulations instead of under 1%."""

TOO_EARLY = "too_early"
GENERAL_PROBLEM_DOMAIN = "general_problem_domain"
GENERAL_PROBLEM = "general_problem"
ISOLATED_CASES = "isolated_cases"

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# --- Binomial lower tail --------------------------------------------------------------------

def _stirling_error(n: int) -> float:
    """log(n!) - log(sqrt(2πn) (n/e)^n): the small correction Stirling's formula leaves out."""
    if n <= 15:
        # Direct difference: lgamma is exact to ~1e-16 here and the result is not tiny.
        return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - _LOG_SQRT_2PI
    nn = float(n) * n
    # The asymptotic series 1/12n - 1/360n³ + ...; the next term is under 1e-16 from n = 16.
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - (1 / 1188) / nn) / nn) / nn) / nn) / n


def _deviance(x: float, mean: float) -> float:
    """x log(x/mean) + mean - x, without the cancellation of the direct formula when x ≈ mean."""
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        total = (x - mean) * v
        term = 2 * x * v
        j = 1
        while True:
            term *= v * v
            following = total + term / (2 * j + 1)
            if following == total:
                return total
            total = following
            j += 1
    return x * math.log(x / mean) + mean - x


def _log_binomial_pmf(k: int, n: int, p: float) -> float:
    """log P(X = k) for X ~ Binomial(n, p), 0 < p < 1, to full double precision even for large n.

    Loader's saddle-point form (Catherine Loader, "Fast and accurate computation of binomial
    probabilities", 2000; what R's dbinom does): the lgamma differences of the textbook formula
    lose ~1e-10 relative for n ≈ 100,000, this does not."""
    q = 1.0 - p
    if k == 0:
        return -_deviance(n, n * q) - n * p if p < 0.1 else n * math.log1p(-p)
    if k == n:
        return -_deviance(n, n * p) - n * q if q < 0.1 else n * math.log(p)
    return (_stirling_error(n) - _stirling_error(k) - _stirling_error(n - k)
            - _deviance(k, n * p) - _deviance(n - k, n * q)
            - _LOG_SQRT_2PI - 0.5 * (math.log(k) + math.log1p(-k / n)))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exact to ~1e-14 relative (also in the far lower tail).

    Below the mean, the tail is summed down from P(X = k), each term from the previous by the
    ratio of consecutive probabilities, until the terms no longer count. Above it, it is
    1 minus the upper tail summed the same way: that difference is at least ~0.4, so nothing
    is lost. Either way only the terms that matter are visited (a few hundred for n = 100,000)."""
    if n < 0 or not 0.0 <= p <= 1.0:
        raise ValueError(f"binomial_cdf needs n >= 0 and 0 <= p <= 1, got n={n}, p={p}")
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p == 0.0:
        return 1.0
    if p == 1.0:
        return 0.0
    odds = p / (1.0 - p)
    if k < n * p:
        anchor = _log_binomial_pmf(k, n, p)
        total, term, i = 1.0, 1.0, k
        while i > 0:
            term *= i / ((n - i + 1) * odds)
            total += term
            if term < total * 1e-17:
                break
            i -= 1
        return math.exp(anchor + math.log(total))
    anchor = _log_binomial_pmf(k + 1, n, p)
    total, term, i = 1.0, 1.0, k + 1
    while i < n:
        term *= (n - i) * odds / (i + 1)
        total += term
        if term < total * 1e-17:
            break
        i += 1
    return max(0.0, 1.0 - math.exp(anchor + math.log(total)))


# --- Normal quantile and Wilson interval ----------------------------------------------------

# Peter Acklam's rational approximation of the normal quantile (relative error 1.15e-9),
# refined below by one Halley step on math.erfc to full double precision.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)
_ACKLAM_LOW = 0.02425


def normal_quantile(probability: float) -> float:
    """x such that P(Z <= x) = ``probability`` for a standard normal Z (scipy's norm.ppf)."""
    if not 0.0 < probability < 1.0:
        if probability == 0.0:
            return -math.inf
        if probability == 1.0:
            return math.inf
        raise ValueError(f"a probability is between 0 and 1, got {probability}")
    if probability > 0.5:
        return -normal_quantile(1.0 - probability)  # 1 - p is exact for p in [0.5, 1]
    if probability < _ACKLAM_LOW:
        t = math.sqrt(-2 * math.log(probability))
        x = ((((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C[5])
             / ((((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1))
    else:
        t = probability - 0.5
        r = t * t
        x = ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * t
             / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1))
    error = 0.5 * math.erfc(-x / math.sqrt(2)) - probability
    step = error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - step / (1 + x * step / 2)


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a rate of ``successes`` out of ``n``; (0, 1) when n = 0.

    Wilson rather than the textbook p ± z·se: that one collapses to a zero-width interval at
    0 of 5, which is exactly the small silent domain we must not be sure about."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n, got {successes} of {n}")
    z = normal_quantile(0.5 + confidence / 2)
    z2 = z * z
    rate = successes / n
    denominator = 1 + z2 / n
    centre = (rate + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / denominator
    # At 0 (or n) successes the bound is exactly 0 (or 1); rounding would leave 1e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return low, high


# --- Multiple testing -----------------------------------------------------------------------

def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given.

    Testing 20 domains at 1% each would flag one healthy domain in five campaigns; the q-value
    keeps the expected share of false suspicions among the suspected domains under the level."""
    m = len(p_values)
    if any(not 0.0 <= p <= 1.0 for p in p_values):
        raise ValueError("p-values are between 0 and 1")
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running_min = 1.0
    for rank in range(m, 0, -1):  # from the largest p-value down, so q never decreases with p
        index = order[rank - 1]
        # m / rank first: it is exactly 1 for the largest, so q >= p survives the rounding.
        running_min = min(running_min, p_values[index] * (m / rank))
        adjusted[index] = running_min
    return adjusted


# --- The per-domain test --------------------------------------------------------------------

@dataclass(frozen=True)
class DomainCounts:
    """A recipient domain's customers in the campaign, and how many of them reacted
    (read the mail or made their choices)."""

    recipients: int
    reacted: int


@dataclass
class DomainTest:
    """One recipient domain against the rest of the campaign.

    ``tested`` is False when the domain cannot be judged (no recipients, nothing else to
    compare with, or too few recipients to ever reach significance); then ``p_value`` and
    ``q_value`` are None and ``suspected`` is False. Rates are None when undefined."""

    domain: str
    recipients: int
    reacted: int
    reaction_rate: float | None
    low: float
    high: float
    baseline_rate: float | None
    tested: bool
    p_value: float | None
    q_value: float | None
    suspected: bool
    explanation: str

    def as_dict(self) -> dict:
        return asdict(self)


def domain_tests(per_domain: dict[str, DomainCounts], alpha: float = SUSPICION_LEVEL,
                 confidence: float = CONFIDENCE) -> list[DomainTest]:
    """Each domain's reaction rate tested against all the other domains pooled, most
    suspicious first (then by size).

    The test is one-sided (we only look for domains reacting *less*) and exact:
    p = P(X <= reacted) for X ~ Binomial(recipients, baseline). The p-values are then adjusted
    by Benjamini–Hochberg across the domains that can reach significance at all: a domain too
    small to ever get p < alpha, even with no reaction, can never be flagged, so counting it
    would only dilute the others (Tarone 1990; Gilbert 2005 for FDR with discrete tests).

    A domain is suspected when q < alpha **and** its Wilson upper bound is at most
    :data:`MAX_RATE_RATIO` of the rest's rate (the minimal practical effect). The ratio also
    keeps the estimated baseline honest at its extremes: if every one of 50 others reacted,
    29 of 30 here is not a provider dropping mails, though the test against exactly 100%
    says p = 0."""
    for domain, counts in per_domain.items():
        if counts.recipients < 0 or not 0 <= counts.reacted <= counts.recipients:
            raise ValueError(f"{domain}: reacted must be between 0 and recipients, got {counts}")
    total_recipients = sum(c.recipients for c in per_domain.values())
    total_reacted = sum(c.reacted for c in per_domain.values())
    results: list[DomainTest] = []
    candidates: dict[str, float] = {}  # domain -> p-value, for those that can reach significance
    for domain, counts in per_domain.items():
        n, reacted = counts.recipients, counts.reacted
        others_n, others_reacted = total_recipients - n, total_reacted - reacted
        low, high = wilson_interval(reacted, n, confidence)
        test = DomainTest(
            domain=domain, recipients=n, reacted=reacted,
            reaction_rate=reacted / n if n else None, low=low, high=high,
            baseline_rate=others_reacted / others_n if others_n else None,
            tested=False, p_value=None, q_value=None, suspected=False, explanation="")
        results.append(test)
        if n == 0 or others_n == 0 or others_reacted == 0:
            continue
        ceiling = MAX_RATE_RATIO * test.baseline_rate
        # The best case for suspicion is no reaction at all: if even that is not significant,
        # or its interval still reaches the ceiling, this domain can never be flagged.
        best_p = binomial_cdf(0, n, test.baseline_rate)
        if best_p >= alpha or wilson_interval(0, n, confidence)[1] > ceiling:
            continue
        test.tested = True
        test.p_value = binomial_cdf(reacted, n, test.baseline_rate)
        candidates[domain] = test.p_value
        test.suspected = high <= ceiling  # completed by the q-value below
    q_values = dict(zip(candidates, benjamini_hochberg(list(candidates.values()))))
    for test in results:
        if test.tested:
            test.q_value = q_values[test.domain]
            test.suspected = test.suspected and test.q_value < alpha
        test.explanation = _explain_domain(test, len(candidates), alpha, confidence)
    results.sort(key=lambda t: (not t.suspected, t.q_value if t.tested else 2.0, -t.recipients))
    return results


def _percent(rate: float) -> str:
    """7.5%, 62%, 0.4%: one decimal, dropped when it is 0."""
    text = f"{rate * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _chance(probability: float) -> str:
    """A probability as staff read it: 45%, 1 in 300, 1 in 2,000,000."""
    if probability >= 0.1:
        return _percent(probability)
    if probability < 1e-9:
        return "less than 1 in a billion"
    odds = 1 / probability
    rounded = round(odds, 1 - int(math.floor(math.log10(odds))))  # two significant figures
    return f"1 in {int(rounded):,}"


def _explain_domain(test: DomainTest, domains_tested: int, alpha: float, confidence: float) -> str:
    """One sentence a member of staff can read: the counts, the comparison, and the chance."""
    where = test.domain
    if test.recipients == 0:
        return f"No recipients at {where}."
    if test.baseline_rate is None:
        return (f"All {test.recipients} recipients are at {where}: there is no other domain "
                f"to compare it with.")
    counts = (f"{test.reacted} of {test.recipients} recipients at {where} reacted "
              f"({_percent(test.reaction_rate)}, {confidence:.0%} CI "
              f"{_percent(test.low)[:-1]}–{_percent(test.high)})")
    if test.baseline_rate == 0:
        return f"{counts}; nobody reacted at the other domains, so {where} cannot be behind them."
    against = f"{counts} against {_percent(test.baseline_rate)} elsewhere"
    if not test.tested:
        return f"{against}; too few recipients to tell (even 0 of {test.recipients} could be chance)."
    if test.reaction_rate >= test.baseline_rate:
        return f"{against}: no fewer than the rest."
    adjusted = ("adjusted for 1 domain tested" if domains_tested == 1
                else f"adjusted for {domains_tested} domains tested")
    chance = (f"the chance of so few reactions if {where} behaved like the rest is "
              f"{_chance(test.q_value)} ({adjusted})")
    if test.suspected:
        return f"{against}; {chance}."
    if test.q_value < alpha:
        return f"{against}; {chance}, but the gap is too small to blame the domain."
    return f"{against}; {chance}: not abnormal."


# --- The verdict ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignTotals:
    """The whole campaign: customers mailed, how many reacted, bounced, complained."""

    recipients: int
    reacted: int
    bounced: int = 0
    complained: int = 0


@dataclass
class Verdict:
    """The diagnosis shown to staff: one of the outcome constants, what to do, and why."""

    outcome: str
    action: str
    explanation: str
    silence_rate: float
    suspected_domains: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def verdict(days_since_notification: float, totals: CampaignTotals, tests: list[DomainTest],
            *, override: bool = False) -> Verdict:
    """Isolated cases or a general problem, and the suggested action.

    A suspected domain wins over the overall rate: one provider dropping every mail is the
    strongest sign of a general problem even when the other domains keep the total silence
    under 40%. ``override`` lets staff ask before the 5 days (say, the show is tomorrow)."""
    if totals.recipients <= 0:
        raise ValueError("a campaign with no recipients has nothing to diagnose")
    silent = totals.recipients - totals.reacted
    silence = silent / totals.recipients
    overall = (f"{silent} of {totals.recipients} customers ({_percent(silence)}) have not "
               f"reacted, {totals.bounced} bounced, {totals.complained} complained")
    if days_since_notification < MIN_DAYS_BEFORE_DIAGNOSIS and not override:
        wait = math.ceil(MIN_DAYS_BEFORE_DIAGNOSIS - days_since_notification)
        elapsed = f"{days_since_notification:g} day{'' if days_since_notification == 1 else 's'}"
        return Verdict(
            outcome=TOO_EARLY, silence_rate=silence,
            action=f"Wait {wait} more day{'s' if wait > 1 else ''} before judging the silence.",
            explanation=(f"Only {elapsed} since the notification: customers need about "
                         f"{MIN_DAYS_BEFORE_DIAGNOSIS} days to react, so silence says little yet "
                         f"({overall})."))
    suspected = [t for t in tests if t.suspected]
    if suspected:
        names = ", ".join(t.domain for t in suspected)
        return Verdict(
            outcome=GENERAL_PROBLEM_DOMAIN, silence_rate=silence,
            suspected_domains=[t.domain for t in suspected],
            action=(f"Reset the customers at {names} still in “mail sent” and notify them again "
                    f"with a plainer mail (one link, little formatting)."),
            explanation=(f"{overall}. The silence is concentrated at {names}: "
                         + " ".join(t.explanation for t in suspected)))
    if silence > GENERAL_SILENCE:
        complaints = (f" {totals.complained} complaints also hurt our sender reputation."
                      if totals.complained else "")
        return Verdict(
            outcome=GENERAL_PROBLEM, silence_rate=silence,
            action=("Check the sender's reputation and authentication (SPF, DKIM, DMARC), then "
                    "reset the customers still in “mail sent” and notify them again with a "
                    "plainer mail."),
            explanation=(f"{overall}: more than {_percent(GENERAL_SILENCE)} silent is a general "
                         f"problem, and no single domain explains it, so the mails are likely "
                         f"filtered as spam across providers.{complaints}"))
    usual = ("" if silence <= USUAL_SILENCE else
             f" That is more than the usual {_percent(USUAL_SILENCE)}: check again in a few days.")
    return Verdict(
        outcome=ISOLATED_CASES, silence_rate=silence,
        action=(f"Fix the addresses of the customers who have not reacted, the {totals.bounced} "
                f"bounced first, and resend to them one by one (or copy their refund link to send "
                f"by hand)."),
        explanation=(f"{overall}: at most {_percent(GENERAL_SILENCE)} silent and no domain "
                     f"reacting abnormally less than the rest, so these are isolated cases "
                     f"(wrong addresses, or customers who do not want to react).{usual}"))
