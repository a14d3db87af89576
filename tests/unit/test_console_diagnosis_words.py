"""The delivery diagnosis's verdict and suggested action in the console's language: each outcome
the statistics can give is said in French on a French page (the service's own words are
English), and the service's English is kept on an English page."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.handlers.console.frame import Screen, render

CAMPAIGN = SimpleNamespace(id="01CAMPAIGN")


def _page(language: str, outcome: str, **verdict) -> str:
    diagnosis = SimpleNamespace(
        verdict={"outcome": outcome, "action": "Fix the addresses first.", "explanation": "Why, in English.", **verdict},
        totals={"notified": 40, "bounced": 3}, domains=[], method="A test per domain.")
    screen = Screen(SimpleNamespace(context={"path": "/console/campaigns/x/diagnosis"}), None, language)
    return render("diagnosis.html.j2", screen, campaign=CAMPAIGN, diagnosis=diagnosis)


@pytest.mark.parametrize(("outcome", "verdict", "said"), [
    ("too_early", {}, "Attendez quelques jours"),
    ("general_problem_domain", {"suspected_domains": ["orange.fr", "free.fr"]},
     "Remettez à prévenir les clients de orange.fr, free.fr"),
    ("general_problem", {}, "SPF, DKIM, DMARC"),
    ("isolated_cases", {}, "en commençant par les 3 rejetées"),
])
def test_each_outcome_is_said_in_french_with_the_details_kept(outcome, verdict, said):
    page = _page("fr", outcome, **verdict)
    assert said in page and "Fix the addresses first." not in page
    assert '<p lang="en">Why, in English.</p>' in page


def test_an_english_page_gives_the_services_own_words():
    page = _page("en", "isolated_cases")
    assert "Isolated cases" in page and "Fix the addresses first." in page
