"""Mail templates and their rendering: every template in ``templates/mail/`` is rendered in
every language with its sample context and checked against the content rules, so a new
template is checked as soon as its file exists; then overrides, custom messages, fallbacks
and the content checker itself (each rule shown to fail)."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from markupsafe import escape

from chalicelib.errors import InvalidInput, NotFound
from chalicelib.services.mail import rendering as mail_rendering
from chalicelib.services.mail.content import check_overrides, content_problems
from chalicelib.services.mail.rendering import (
    ACTION_REQUIRED,
    LANGUAGES,
    MAIL_DIR,
    MailTemplateError,
    RenderedMail,
    offers_action,
    render_mail,
    sample_context,
    sample_key_facts,
    template_names,
)

URL = "https://billetterie.example.org/r/01JD3X8Y7ZQ4P2M6N5K9R0T1VW?t=a&u=b"
MARKUP = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
FILES = sorted(path.name for path in Path(MAIL_DIR).glob("*.j2") if not path.name.startswith("_"))
NAMES = sorted({name.split(".")[0] for name in FILES})


def rendered_sample(name: str, language: str, **options) -> RenderedMail:
    url = URL if offers_action(name, language) else None
    return render_mail(name, language, sample_context(name, language), action_url=url, **options)


def test_the_template_folder_holds_the_expected_mails():
    assert set(NAMES) >= {"performance_cancelled", "performance_postponed", "order_confirmation",
                          "order_cancellation", "refund_initiated", "options_reminder", "team_new_order"}
    assert template_names() == tuple(NAMES)
    for file_name in FILES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*\.(fr|en)\.j2", file_name), f"{file_name}: name as <name>.<fr|en>.j2"


@pytest.mark.parametrize("name", NAMES)
def test_every_template_is_written_in_every_language_and_has_a_sample(name):
    assert {f"{name}.{language}.j2" for language in LANGUAGES} <= set(FILES), f"{name}: one file per language"
    assert sample_context(name), f"{name}: add a sample context to templates/mail/samples.json"
    assert sample_key_facts(name), f"{name}: name its key facts in templates/mail/samples.json"


@pytest.mark.parametrize("file_name", FILES)
def test_every_template_renders_a_clean_mail_with_its_facts_in_both_parts(file_name):
    name, language, _ = file_name.split(".")
    context = sample_context(name, language)
    mail = rendered_sample(name, language)
    url = URL if offers_action(name, language) else None

    assert (mail.template, mail.language) == (name, language)
    assert content_problems(mail, url) == []
    for part in (mail.subject, mail.text, mail.html):
        assert not MARKUP.search(part), f"template markup leaked into {part[:80]!r}"
    for key in sample_key_facts(name):
        fact = str(context[key])
        assert fact in mail.text, f"{key}={fact!r} missing from the text part"
        assert str(escape(fact)) in mail.html, f"{key}={fact!r} missing from the HTML part"
    if url:
        assert mail.text.count(URL) == 1 and f"\n{URL}\n" in mail.text  # bare, on its own line
        assert mail.html.count(str(escape(URL))) == 1 and "<a " in mail.html
    assert mail.text.startswith(("Bonjour", "Hello"))
    assert f'<html lang="{language}">' in mail.html and f"<title>{escape(mail.subject)}</title>" in mail.html


@pytest.mark.parametrize("name", NAMES)
def test_without_an_action_url_there_is_no_link_or_the_mail_refuses(name):
    if name in ACTION_REQUIRED:
        with pytest.raises(ValueError):
            render_mail(name, "fr", sample_context(name))
        return
    mail = render_mail(name, "fr", sample_context(name))
    assert content_problems(mail, None) == []
    assert "http" not in mail.text and "<a " not in mail.html


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_context_key_raises_instead_of_reaching_a_spectator(name):
    context = sample_context(name)
    for key in sample_key_facts(name):
        partial = {k: v for k, v in context.items() if k != key}
        with pytest.raises(MailTemplateError, match=key):
            render_mail(name, "fr", partial, action_url=URL if offers_action(name) else None)


def test_text_part_layout():
    mail = rendered_sample("order_confirmation", "fr")
    paragraphs = mail.text.rstrip("\n").split("\n\n")
    assert paragraphs[0] == "Bonjour Mathieu,"
    assert paragraphs[-1].endswith("Opéra de Lyon")
    assert f"Voir mes billets\u00a0:\n{URL}" in paragraphs
    assert "\n\n\n" not in mail.text and mail.text.endswith("\n")


def test_html_part_is_a_small_self_contained_accessible_document():
    mail = rendered_sample("performance_cancelled", "fr")
    html = mail.html
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert 'name="viewport"' in html and "max-width:600px" in html
    assert "class=" not in html and "<style" not in html and "<img" not in html and "<link" not in html
    assert html.count("<a ") == 1 and "Faire mon choix sur ma page de remboursement</a>" in html
    assert "jusqu&#39;au" in html  # paragraphs are escaped, not raw
    assert "<p " in html and "<br>" in html  # paragraphs and line breaks kept


def test_language_falls_back_to_french():
    for language in ("de", None, "", "xx-YY"):
        mail = rendered_sample("order_confirmation", language)
        assert mail.language == "fr" and mail.text.startswith("Bonjour")
    english = rendered_sample("order_confirmation", "en-GB")
    assert english.language == "en" and english.subject.startswith("Your order")


def test_a_language_file_missing_falls_back_to_french(monkeypatch, tmp_path):
    (tmp_path / "only_french.fr.j2").write_text("{% block subject %}Sujet {{ x }}{% endblock %}"
                                                 "{% block intro %}Texte{% endblock %}", encoding="utf-8")
    (tmp_path / "_blocks.j2").write_text((MAIL_DIR / "_blocks.j2").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(mail_rendering, "MAIL_DIR", tmp_path)
    mail_rendering._environment.cache_clear()
    try:
        mail = render_mail("only_french", "en", {"x": 1, "first_name": "Léa", "venue_name": "Le Quai"})
        assert mail.language == "fr" and mail.subject == "Sujet 1" and "Bonjour Léa," in mail.text
    finally:
        mail_rendering._environment.cache_clear()


@pytest.mark.parametrize("name", ["no_such_mail", "../templates/mail/order_confirmation", "_blocks", "", "Order"])
def test_unknown_template_is_not_found(name):
    with pytest.raises(NotFound):
        render_mail(name, "fr", {})
    with pytest.raises(NotFound):
        sample_context("no_such_mail")


def test_custom_message_is_a_paragraph_of_both_parts_escaped_in_html():
    message = "Le parking est fermé ce soir-là.\n\nMerci d'arriver tôt <script>alert(1)</script> & bonne soirée"
    mail = rendered_sample("order_cancellation", "fr", custom_message=message)
    assert message in mail.text
    assert "<script" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bonne soirée" in mail.html
    assert content_problems(mail, URL) == []
    # it comes after the details and before the action
    assert mail.text.index("Billets annulés") < mail.text.index("Le parking") < mail.text.index(URL)


def test_custom_message_is_not_a_template():
    mail = rendered_sample("order_cancellation", "fr", custom_message="Tarif {{ order_number }}")
    assert "Tarif {{ order_number }}" in mail.text  # shown as typed, and flagged by the checker
    assert "template markup" in " ".join(content_problems(mail, URL))


def test_overrides_replace_blocks_with_the_same_context():
    overrides = {"subject": "Votre commande {{ order_number }} : quelques nouvelles",
                 "intro": "Bonjour de la part de toute l'équipe.\n\nÀ très bientôt pour {{ show_name }}."}
    mail = rendered_sample("order_cancellation", "fr", overrides=overrides)
    assert mail.subject == "Votre commande LCR-2026-000932 : quelques nouvelles"
    assert "À très bientôt pour Orchestre national de Jazz." in mail.text
    assert "Les billets annulés ne sont plus valables" not in mail.text  # the default intro is gone
    assert "Commande : LCR-2026-000932" in mail.text  # other blocks stay
    assert content_problems(mail, URL) == []


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ order_number.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ self._TemplateReference__context }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ 9 ** 9999999 }}",
    "{{ config }}{{ request }}",
])
def test_overrides_are_sandboxed(attack):
    try:
        mail = rendered_sample("order_confirmation", "fr", overrides={"intro": attack})
    except InvalidInput as error:
        assert error.errors[0].field == "overrides.intro"
    else:  # rendered harmlessly: nothing of Python's internals reached the mail
        for leak in ("<class", "object", "subclasses", "__", "builtins", "function"):
            assert leak not in mail.text


def test_overrides_cannot_mutate_the_context():
    context = sample_context("order_confirmation")
    context["items"] = [1, 2]
    with pytest.raises(InvalidInput):
        render_mail("order_confirmation", "fr", context, overrides={"intro": "{{ items.append(3) }}"})
    assert context["items"] == [1, 2]


def test_override_mistakes_name_the_block():
    for overrides, message in (({"intro": "{{ nope }}"}, "unknown value"),
                               ({"intro": "{% if %}"}, "syntax error"),
                               ({"footer": "x"}, "not a mail block"),
                               ({"intro": "x" * 5000}, "at most")):
        with pytest.raises(InvalidInput) as caught:
            rendered_sample("order_confirmation", "fr", overrides=overrides)
        assert caught.value.errors[0].field.startswith("overrides.")
        assert message in caught.value.errors[0].message


def test_check_overrides_applies_the_content_rules():
    assert check_overrides("options_reminder", {"intro": "Pensez à confirmer avant le {{ deadline }}."}).subject
    with pytest.raises(InvalidInput) as caught:
        check_overrides("options_reminder", {"intro": "Écrivez à resa@maison-danse.fr ou voyez www.maison-danse.fr"})
    fields = {error.field for error in caught.value.errors}
    assert fields == {"overrides"} and len(caught.value.errors) >= 2


def test_subject_is_one_line_and_shortened_when_too_long():
    context = {**sample_context("performance_cancelled"), "show_name": "Festival " + "très " * 40 + "long"}
    mail = render_mail("performance_cancelled", "fr", context, action_url=URL)
    assert len(mail.subject) <= 120 and mail.subject.endswith("…")
    crafted = {**sample_context("order_confirmation"), "order_number": "A1\r\nBcc: someone"}
    assert "\n" not in render_mail("order_confirmation", "fr", crafted).subject


def test_a_malformed_action_url_is_refused():
    for url in ("javascript:alert(1)", "https://x.org/a b", 'https://x.org/"onmouseover="', "/relative"):
        with pytest.raises(ValueError):
            render_mail("order_confirmation", "fr", sample_context("order_confirmation"), action_url=url)


def test_refund_by_transfer_for_other_means_of_payment():
    for method in ("cheque", "cash", "invoice"):
        context = {**sample_context("refund_initiated"), "payment_method": method}
        mail = render_mail("refund_initiated", "fr", context)
        assert "virement bancaire" in mail.text and "carte bancaire" not in mail.text
    card = render_mail("refund_initiated", "en", sample_context("refund_initiated", "en"))
    assert "credited back to the card" in card.text


def test_importing_the_renderer_does_not_import_jinja():
    import subprocess
    import sys

    code = ("import sys; import chalicelib.services.mail.rendering, chalicelib.services.mail.content; "
            "print('jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the content checker: each rule can fail -------------------------------------------------


@pytest.fixture
def good() -> RenderedMail:
    return rendered_sample("performance_cancelled", "fr")


def test_the_sample_mail_is_clean(good):
    assert content_problems(good, URL) == []


def test_checker_catches_a_second_link(good):
    html = good.html.replace("</div>", '<p><a href="https://tracker.example.com/x">ici</a></p></div>')
    assert any("link" in problem for problem in content_problems(replace(good, html=html), URL))
    text = good.text + "\nVoir aussi https://autre.example.com\n"
    assert any("link" in problem for problem in content_problems(replace(good, text=text), URL))
    for stray in ("www.theatre-celestins.fr", "theatre-celestins.fr"):
        assert content_problems(replace(good, text=good.text + stray), URL)


def test_checker_catches_a_link_that_is_not_the_action_link(good):
    assert content_problems(good, "https://billetterie.example.org/r/other")
    assert content_problems(good, None)


def test_checker_catches_a_missing_action_link(good):
    text = good.text.replace(URL, "")
    assert "text part: the action link is missing" in content_problems(replace(good, text=text), URL)


def test_checker_catches_a_mail_address(good):
    text = good.text + "\nContact : billetterie@celestins-lyon.org\n"
    assert "text part: a mail address in the body" in content_problems(replace(good, text=text), URL)
    html = good.html.replace("</div>", "<p>billetterie&#64;celestins-lyon.org</p></div>")
    assert "html part: a mail address in the body" in content_problems(replace(good, html=html), URL)


@pytest.mark.parametrize("image", [
    '<img src="cid:logo" alt="">',
    '<div style="background-image:url(logo.png)">x</div>',
    '<table background="logo.png"><tr><td>x</td></tr></table>',
])
def test_checker_catches_images(good, image):
    html = good.html.replace("</div>", image + "</div>")
    assert any("image" in problem for problem in content_problems(replace(good, html=html), URL))


def test_checker_catches_a_missing_text_part(good):
    assert any("text part" in problem for problem in content_problems(replace(good, text=""), URL))
    assert any("text part" in problem for problem in content_problems(replace(good, text="  \n"), URL))


def test_checker_catches_a_bad_subject(good):
    assert "subject: empty" in content_problems(replace(good, subject=" "), URL)
    assert "subject: more than one line" in content_problems(replace(good, subject="a\nBcc: x"), URL)
    assert any("at most 120" in p for p in content_problems(replace(good, subject="x" * 121), URL))


def test_checker_catches_malformed_html(good):
    assert any("lang" in p for p in content_problems(replace(good, html=good.html.replace(' lang="fr"', "")), URL))
    assert any("<head>" in p for p in content_problems(
        replace(good, html=re.sub(r"<head>.*</head>", "", good.html, flags=re.S)), URL))
    assert any("unbalanced" in p for p in content_problems(replace(good, html=good.html.replace("</p>", "", 1)), URL))
    assert any("script" in p for p in content_problems(
        replace(good, html=good.html.replace("</div>", "<script>x()</script></div>")), URL))


def test_checker_catches_leftover_template_markup(good):
    assert any("markup" in p for p in content_problems(replace(good, text=good.text + "{{ first_name }}"), URL))


@pytest.mark.parametrize("heavy", [
    "{{ '%999999999d' % 1 }}",
    "{{ 'x'|center(999999999) }}",
    "{{ lipsum(100000) }}",
    "{% for i in range(10**6) %}x{% endfor %}",
    "{% for i in range(90) %}{% for j in range(90) %}{% for k in range(90) %}xxx{% endfor %}{% endfor %}{% endfor %}",
])
def test_overrides_cannot_build_huge_texts(heavy):
    with pytest.raises(InvalidInput) as caught:
        rendered_sample("order_confirmation", "fr", overrides={"intro": heavy})
    assert caught.value.errors[0].field == "overrides.intro"


def test_overrides_may_use_the_mail_filters():
    context = {**sample_context("order_confirmation"), "amount_cents": 4200}
    mail = render_mail("order_confirmation", "fr", context,
                       overrides={"intro": "Réglé : {{ amount_cents|money('EUR', 'fr') }}, {{ first_name|upper }}."})
    assert "Réglé : 42,00\u00a0€, MATHIEU." in mail.text
