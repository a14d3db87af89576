"""The season-subscription mails (SEPA pre-notification, failed instalment, card instalment to
authenticate, arrears notice to the team, renewal notice), rendered in both languages with their
samples through the project's own rendering: their key facts, what each must say, and the
content rules."""
from __future__ import annotations

import pytest
from markupsafe import escape

from chalicelib.services.mail.content import content_problems
from chalicelib.services.mail.rendering import (
    ACTION_REQUIRED,
    LANGUAGES,
    RenderedMail,
    offers_action,
    render_mail,
    sample_context,
    sample_key_facts,
    template_languages,
    template_names,
)

URL = "https://billetterie.example.org/r/01JKQ8A2B3C4D5E6F7G8H9J0KM"
SUBSCRIPTION_MAILS = ("sepa_prenotification", "instalment_failed", "instalment_authentication",
                      "team_instalment_arrears", "renewal_notice")
CASES = [(name, language) for name in SUBSCRIPTION_MAILS for language in LANGUAGES]


def flat(text: str) -> str:
    """``text`` with its runs of whitespace as one space, as the renderer writes a subject (a
    no-break space in an amount or a date becomes a plain space there)."""
    return " ".join(text.split())


def render(name: str, language: str, context: dict | None = None, url: str | None = URL) -> RenderedMail:
    mail = render_mail(name, language, sample_context(name, language) if context is None else context,
                       action_url=url if offers_action(name, language) else None)
    assert mail.language == language
    return mail


def problems(mail: RenderedMail) -> list[str]:
    return content_problems(mail, URL if offers_action(mail.template, mail.language) else None)


def body_paragraphs(mail: RenderedMail) -> list[str]:
    """The text part's paragraphs after the greeting."""
    return mail.text.rstrip("\n").split("\n\n")[1:]


def test_every_subscription_mail_exists_in_both_languages():
    assert set(SUBSCRIPTION_MAILS) <= set(template_names())
    for name in SUBSCRIPTION_MAILS:
        assert template_languages(name) == LANGUAGES


@pytest.mark.parametrize("name,language", CASES)
def test_key_facts_in_both_parts_and_the_content_rules_pass(name, language):
    context = sample_context(name, language)
    mail = render(name, language)
    assert problems(mail) == []
    facts = sample_key_facts(name)
    assert facts
    for key in facts:
        fact = str(context[key])
        assert fact in mail.text, f"{key}={fact!r} missing from the text part"
        assert str(escape(fact)) in mail.html, f"{key}={fact!r} missing from the HTML part"


@pytest.mark.parametrize("language", LANGUAGES)
def test_prenotification_states_amount_date_mandate_and_creditor_first(language):
    context = sample_context("sepa_prenotification", language)
    mail = render("sepa_prenotification", language)
    assert flat(context["amount"]) in mail.subject and flat(context["debit_date"]) in mail.subject
    # the four facts the SEPA rules ask for, together in the second paragraph of the body
    prominent = body_paragraphs(mail)[1]
    for key in ("amount", "debit_date", "mandate_reference", "creditor_id"):
        assert context[key] in prominent
    of = "sur" if language == "fr" else "of"
    assert f"{context['instalment_number']} {of} {context['instalment_count']}" in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_renewal_notice_puts_the_deadline_in_the_subject_and_first(language):
    context = sample_context("renewal_notice", language)
    mail = render("renewal_notice", language)
    deadline = context["refusal_deadline"]
    assert flat(deadline) in mail.subject
    first = body_paragraphs(mail)[0]
    assert first.endswith(deadline) and "\n" not in first
    assert context["next_season"] in mail.text and context["box_office"] in mail.text
    law = ("article L215-1 du Code de la consommation" if language == "fr"
           else "French consumer law (Code de la consommation, article L215-1)")
    assert mail.text.count(law) == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_renewal_notice_without_a_known_price(language):
    context = {**sample_context("renewal_notice", language), "price": ""}
    mail = render("renewal_notice", language, context)
    assert problems(mail) == []
    assert sample_context("renewal_notice", language)["price"] not in mail.text
    assert ("pas encore fixé" if language == "fr" else "not been set yet") in mail.text
    assert "Prix" not in mail.text and "Price" not in mail.text
    assert len(body_paragraphs(render("renewal_notice", language))) == len(body_paragraphs(mail))


@pytest.mark.parametrize("language", LANGUAGES)
def test_failed_instalment_announces_the_retry_date(language):
    context = sample_context("instalment_failed", language)
    assert context["final"] is False and context["retry_date"]
    mail = render("instalment_failed", language)
    assert flat(context["retry_date"]) in mail.subject
    assert mail.text.count(context["retry_date"]) == 2  # the sentence and the details
    assert "suspend" not in mail.text


@pytest.mark.parametrize("retry_date", ["", "leftover"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_final_failed_instalment_asks_to_contact_the_box_office_without_a_retry_date(language, retry_date):
    sample = sample_context("instalment_failed", language)
    context = {**sample, "final": True, "retry_date": sample["retry_date"] if retry_date else ""}
    mail = render("instalment_failed", language, context)
    assert problems(mail) == []
    assert sample["retry_date"] not in mail.text and sample["retry_date"] not in mail.html
    contact = "contacter la billetterie" if language == "fr" else "contact the box office"
    assert contact in mail.subject and contact in mail.text
    assert context["box_office"] in mail.text
    assert ("pourrait être suspendu" if language == "fr" else "may be suspended") in mail.text
    assert ("Nouvelle tentative" if language == "fr" else "Next attempt") not in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_failed_instalment_without_a_reason_has_no_reason_line(language):
    context = {**sample_context("instalment_failed", language), "reason": ""}
    mail = render("instalment_failed", language, context)
    assert problems(mail) == []
    assert ("Motif" if language == "fr" else "Reason") not in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_card_authentication_mail_needs_and_carries_its_link(language):
    assert "instalment_authentication" in ACTION_REQUIRED
    with pytest.raises(ValueError):
        render_mail("instalment_authentication", language, sample_context("instalment_authentication", language))
    mail = render("instalment_authentication", language)
    assert mail.text.count(URL) == 1 and f"\n{URL}\n" in mail.text
    assert mail.html.count(f'href="{escape(URL)}"') == 1
    assert "3-D Secure" in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_team_arrears_notice_is_addressed_to_the_team(language):
    context = sample_context("team_instalment_arrears", language)
    without_link = render("team_instalment_arrears", language, url=None)
    assert content_problems(without_link, None) == []
    assert without_link.text.startswith("Bonjour,\n" if language == "fr" else "Hello,\n")
    assert flat(context["payer_name"]) in without_link.subject
    assert f"{context['attempts']}\n" in without_link.text
