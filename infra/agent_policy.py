"""The IAM policy of one card site's edge agent: what the agent at a venue may do in AWS, and
nothing more (``docs/cards.md``, "The agent's credentials").

- ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:ChangeMessageVisibility`` on its site's
  print queue (``{PRINT_QUEUE_PREFIX}{site_id}.fifo``);
- ``sqs:SendMessage`` on the results queue (``CARD_RESULTS_QUEUE``): every agent may send there,
  which is why each message is signed with the site's agent key;
- ``s3:GetObject`` on ``{tenant_id}/{site_id}/*`` of the card-images bucket (the faces, and the
  cancel markers it asks for with ``HeadObject``, which ``s3:GetObject`` allows), and
  ``s3:ListBucket`` on that bucket for that prefix only: without it S3 answers a missing
  marker's ``HeadObject`` with 403 instead of 404, and the agent could not tell "not cancelled"
  from "not allowed".

The policy is attached to the role the site's certificate assumes through IAM Roles Anywhere,
or to the IAM user of a scoped access key. Names come from the stage's settings:

    STAGE=prod python -m infra.agent_policy --tenant theatre-lyon --site 01J... --account 123456789012
"""
from __future__ import annotations

import argparse
import json
import re

_ACCOUNT = re.compile(r"^\d{12}$")
_SITE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def agent_policy(*, tenant_id: str, site_id: str, account_id: str, region: str | None = None) -> dict:
    """The policy document of the agent of ``site_id`` (a site of ``tenant_id``)."""
    from chalicelib.config import settings

    if not _TENANT.match(tenant_id) or not _SITE.match(site_id) or not _ACCOUNT.match(account_id):
        raise ValueError("a tenant id, a site id (ULID) and a 12-digit account id are needed")
    region = region or settings.aws_region
    sqs = f"arn:aws:sqs:{region}:{account_id}"
    bucket = f"{settings.card_images_bucket}-{account_id}-{region}"  # as the stack names it (infra/template.py)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "TakeItsSitesPrintJobs", "Effect": "Allow",
             "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
             "Resource": f"{sqs}:{settings.print_queue_prefix}{site_id}.fifo"},
            {"Sid": "ReportResults", "Effect": "Allow", "Action": ["sqs:SendMessage"],
             "Resource": f"{sqs}:{settings.card_results_queue}"},
            {"Sid": "ReadItsSitesCardImages", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": f"arn:aws:s3:::{bucket}/{tenant_id}/{site_id}/*"},
            {"Sid": "TellAMissingCancelMarker", "Effect": "Allow", "Action": ["s3:ListBucket"],
             "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringLike": {"s3:prefix": [f"{tenant_id}/{site_id}/*"]}}},
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print the IAM policy of one card site's agent (JSON).")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    print(json.dumps(agent_policy(tenant_id=args.tenant, site_id=args.site, account_id=args.account,
                                  region=args.region), indent=2))


if __name__ == "__main__":
    main()
