"""The card agent's IAM policy grants its own site's queue, the results queue and its own
prefix of the images bucket, and nothing else (no wildcard action, no other site)."""
from __future__ import annotations

import pytest

from chalicelib.config import settings
from infra.agent_policy import agent_policy

SITE = "01JAAAAAAAAAAAAAAAAAAAAAAA"


def _grants(policy: dict) -> dict[str, tuple[str, ...]]:
    return {statement["Resource"]: tuple(sorted(statement["Action"])) for statement in policy["Statement"]
            if statement["Effect"] == "Allow"}


def test_the_agent_may_take_its_site_s_jobs_report_and_read_its_images_only():
    policy = agent_policy(tenant_id="theatre-lyon", site_id=SITE, account_id="123456789012", region="eu-west-3")
    assert _grants(policy) == {
        f"arn:aws:sqs:eu-west-3:123456789012:{settings.print_queue_prefix}{SITE}.fifo":
            ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"),
        f"arn:aws:sqs:eu-west-3:123456789012:{settings.card_results_queue}": ("sqs:SendMessage",),
        f"arn:aws:s3:::{settings.card_images_bucket}-123456789012-eu-west-3/theatre-lyon/{SITE}/*": ("s3:GetObject",),
        f"arn:aws:s3:::{settings.card_images_bucket}-123456789012-eu-west-3": ("s3:ListBucket",),
    }
    [listing] = [statement for statement in policy["Statement"] if statement["Action"] == ["s3:ListBucket"]]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"theatre-lyon/{SITE}/*"]}}
    assert all("*" not in action for statement in policy["Statement"] for action in statement["Action"])
    assert not any("Deny" == statement["Effect"] or "NotAction" in statement for statement in policy["Statement"])


def test_another_site_s_policy_shares_only_the_results_queue():
    first = set(_grants(agent_policy(tenant_id="a", site_id=SITE, account_id="123456789012")))
    second = set(_grants(agent_policy(tenant_id="a", site_id="01JBBBBBBBBBBBBBBBBBBBBBBB", account_id="123456789012")))
    assert first & second == {f"arn:aws:sqs:{settings.aws_region}:123456789012:{settings.card_results_queue}",
                              f"arn:aws:s3:::{settings.card_images_bucket}-123456789012-{settings.aws_region}"}


@pytest.mark.parametrize("tenant, site, account", [("a#b", SITE, "123456789012"), ("a", "not-a-site", "123456789012"),
                                                   ("a", SITE, "12345"), ("a", f"{SITE}/*", "123456789012")])
def test_malformed_names_are_refused_rather_than_widening_the_policy(tenant, site, account):
    with pytest.raises(ValueError):
        agent_policy(tenant_id=tenant, site_id=site, account_id=account)
