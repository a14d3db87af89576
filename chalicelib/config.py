"""Settings: the one place that reads the environment.

Every other module takes what it needs from :data:`settings`. The values come from the
process environment, which is filled by ``.chalice/config.json`` per stage in AWS, by the
local stack runner in development and by the test harness in tests. Endpoints left empty
mean "the real AWS service"; local runs point them at DynamoDB Local and moto.

Secrets (the signing keys, Stripe's secret key and webhook secret) are never read from here
by the product: :mod:`chalicelib.adapters.secrets` reads them on first use from the store
``SECRETS_STORE`` names. ``ssm`` (the default of the prod stage) is SSM Parameter Store,
under ``SECRETS_PREFIX``; ``environment`` (every other stage's default: development, tests)
is :attr:`Settings.environment_secrets`, filled below from ``SIGNING_SECRET``,
``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` (public development defaults outside prod).
Loading the settings never fails for a missing secret: a request that needs one answers 503.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The Jinja templates (mails, pages, documents): beside chalicelib/ in the repository, and at the
# package's root in the Lambda (packaged through vendor/templates).
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _flag(name: str, default: bool = False) -> bool:
    raw = _env(name)
    return default if not raw else raw.lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    stage: str
    aws_region: str
    table_prefix: str
    dynamodb_endpoint: str | None
    aws_endpoint: str | None
    jwks_url: str
    jwt_issuer: str
    jwt_audience: str | None  # the app client ids (comma separated) whose tokens are accepted; required in prod
    jwt_token_uses: tuple[str, ...]  # Cognito's token_use values accepted ("id", "access"); empty: not checked
    secrets_store: str  # "ssm" (SSM Parameter Store, SecureString) or "environment" (development, tests)
    secrets_prefix: str  # the parameters' names: {prefix}signing-keys, {prefix}stripe-secret-key, ...
    secrets_max_age: int  # seconds a secret read from SSM is kept before being read again (rotation delay)
    environment_secrets: dict[str, str]  # the "environment" store: secret name -> value (only that store reads it)
    public_base_url: str
    default_timezone: str
    max_body_bytes: int
    mail_transport: str
    mail_from_address: str
    smtp_host: str
    smtp_port: int
    ses_configuration_set: str | None
    mail_send_rate: float
    mail_events_topic: str
    local_mail_events: bool
    jobs_queue: str
    exports_bucket: str
    stripe_api_base: str | None
    checkout_hold_minutes: int
    shop_holds_per_buyer: int
    shop_holds_per_client: int
    cart_hold_minutes: int  # a cart holds its places this long from when it is opened
    cart_max_items: int  # lines (a performance, tariff and quota, or its seats) in one cart
    cart_max_tickets: int  # places in one cart, all lines together
    carts_per_client_hour: int  # carts one client address may open in an hour
    instalment_retry_days: str  # days after each failed instalment before the next attempt: "3,7"
    stripe_charge_rate: float  # off-session charges a second the instalment collector may make, all runs together
    sepa_prenotice_days: int  # least calendar days between a SEPA debit's pre-notification and the debit
    sepa_creditor_id: str  # the venue's SEPA creditor identifier (ICS), in every pre-notification
    geoip_database: str  # the GeoIP2/GeoLite2 City .mmdb: a path, or s3://bucket/key (read once per container)
    local_source_ip: str | None  # local stack only (stage local/dev): the shop's client address, forced
    local_source_ip_header: bool  # local stack only: the X-Local-Source-Ip header names the client address
    card_results_queue: str  # the venues' agents report print results and printer heartbeats here
    card_images_bucket: str  # the rendered card faces, under {tenant}/{site}/{job}/
    print_queue_prefix: str  # a site's print queue is {prefix}{site_id}.fifo, created when the site is registered
    print_dead_letters_queue_arn: str | None  # the stack's FIFO dead-letter queue the print queues redrive to


DEV_SIGNING_SECRET = "dev-only-signing-secret-change-me"
DEV_STRIPE_SECRET_KEY = "sk_test_local"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_local"
DEV_SEPA_CREDITOR_ID = "FR00ZZZ000000"  # not a real ICS: production sets SEPA_CREDITOR_ID
# The secrets by name (the last part of their SSM parameter's name), with the environment
# variable and the public development default of the "environment" store. In prod a public
# default counts as missing: with it a link, a cursor or a Stripe event could be forged.
SECRETS = {
    "signing-keys": ("SIGNING_SECRET", DEV_SIGNING_SECRET),
    "stripe-secret-key": ("STRIPE_SECRET_KEY", DEV_STRIPE_SECRET_KEY),
    "stripe-webhook-secret": ("STRIPE_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET),
}


def _environment_secrets(stage: str) -> dict[str, str]:
    """What the "environment" store holds: each variable set, else (outside prod) its default."""
    found = {}
    for name, (variable, default) in SECRETS.items():
        value = _env(variable, "" if stage == "prod" else default)
        if value and not (stage == "prod" and value == default):
            found[name] = value
    return found


def load_settings() -> Settings:
    stage = _env("STAGE", "dev")
    return Settings(
        stage=stage,
        aws_region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "eu-west-3")),
        table_prefix=_env("TABLE_PREFIX", f"ticketing-{stage}-"),
        dynamodb_endpoint=_env("DYNAMODB_ENDPOINT") or None,
        aws_endpoint=_env("AWS_ENDPOINT") or None,
        jwks_url=_env("JWKS_URL"),
        jwt_issuer=_env("JWT_ISSUER", "https://ticketing.local/dev"),
        jwt_audience=_env("JWT_AUDIENCE") or None,
        jwt_token_uses=tuple(use for use in _env("JWT_TOKEN_USES", "id,access" if stage == "prod" else "").split(",")
                             if use),
        secrets_store=_env("SECRETS_STORE", "ssm" if stage == "prod" else "environment"),
        secrets_prefix=_env("SECRETS_PREFIX", f"/ticketing/{stage}/"),
        secrets_max_age=int(_env("SECRETS_MAX_AGE", "300")),
        environment_secrets=_environment_secrets(stage),
        public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        default_timezone=_env("DEFAULT_TIMEZONE", "Europe/Paris"),
        max_body_bytes=int(_env("MAX_BODY_BYTES", "262144")),
        mail_transport=_env("MAIL_TRANSPORT", "ses"),
        mail_from_address=_env("MAIL_FROM_ADDRESS", "billetterie@notices.example.org"),
        smtp_host=_env("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(_env("SMTP_PORT", "25")),
        ses_configuration_set=_env("SES_CONFIGURATION_SET") or None,
        mail_send_rate=float(_env("MAIL_SEND_RATE", "14")),
        mail_events_topic=_env("MAIL_EVENTS_TOPIC", f"ticketing-{stage}-mail-events"),
        local_mail_events=_flag("LOCAL_MAIL_EVENTS"),
        jobs_queue=_env("JOBS_QUEUE", f"ticketing-{stage}-jobs"),
        exports_bucket=_env("EXPORTS_BUCKET", f"ticketing-{stage}-exports"),
        stripe_api_base=_env("STRIPE_API_BASE") or None,
        checkout_hold_minutes=int(_env("CHECKOUT_HOLD_MINUTES", "30")),
        instalment_retry_days=_env("INSTALMENT_RETRY_DAYS", "3,7"),
        stripe_charge_rate=float(_env("STRIPE_CHARGE_RATE", "20")),
        sepa_prenotice_days=int(_env("SEPA_PRENOTICE_DAYS", "5")),
        sepa_creditor_id=_env("SEPA_CREDITOR_ID", DEV_SEPA_CREDITOR_ID),
        shop_holds_per_buyer=int(_env("SHOP_HOLDS_PER_BUYER", "3")),
        shop_holds_per_client=int(_env("SHOP_HOLDS_PER_CLIENT", "10")),
        cart_hold_minutes=int(_env("CART_HOLD_MINUTES", "20")),
        cart_max_items=int(_env("CART_MAX_ITEMS", "10")),
        cart_max_tickets=int(_env("CART_MAX_TICKETS", "20")),
        carts_per_client_hour=int(_env("CARTS_PER_CLIENT_HOUR", "20")),
        geoip_database=_env("GEOIP_DATABASE"),
        local_source_ip=_env("LOCAL_SOURCE_IP") or None,
        local_source_ip_header=_flag("LOCAL_SOURCE_IP_HEADER"),
        card_results_queue=_env("CARD_RESULTS_QUEUE", f"ticketing-{stage}-card-results"),
        card_images_bucket=_env("CARD_IMAGES_BUCKET", f"ticketing-{stage}-card-images"),
        print_queue_prefix=_env("PRINT_QUEUE_PREFIX", f"ticketing-{stage}-print-"),
        print_dead_letters_queue_arn=_env("PRINT_DEAD_LETTERS_QUEUE_ARN") or None,
    )


settings = load_settings()


# -- the staff console (docs/console.md): kept apart from Settings so the console's settings
# -- are read in one block. Cognito's hosted UI signs staff in; nothing here is a secret (the
# -- app client is public and uses PKCE).
@dataclass(frozen=True)
class ConsoleSettings:
    cognito_domain: str  # the user pool's hosted UI, e.g. https://venue.auth.eu-west-3.amazoncognito.com
    cognito_client_id: str  # the console's app client (public, no secret: PKCE)
    redirect_uri: str  # where Cognito sends the code back: {base}/console/auth/callback
    idle_minutes: int  # a session ends after this long without a request
    max_hours: int  # and this long after sign-in, however active


def load_console_settings() -> ConsoleSettings:
    base = _env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return ConsoleSettings(
        cognito_domain=_env("COGNITO_DOMAIN").rstrip("/"),
        cognito_client_id=_env("CONSOLE_CLIENT_ID"),
        redirect_uri=_env("CONSOLE_REDIRECT_URI", f"{base}/console/auth/callback"),
        idle_minutes=int(_env("CONSOLE_IDLE_MINUTES", "30")),
        max_hours=int(_env("CONSOLE_MAX_HOURS", "10")),
    )


console_settings = load_console_settings()
