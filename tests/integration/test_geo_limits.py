"""Geographic limits (DOMAIN §4, the seed's "Interdiction d'achat en fonction du lieu de résidence"):
staff set them per performance through the API (audited, validated, tenant-bound), and the shop's
check refuses buyers located, by their connection's IP address in a GeoIP2-City database built
for the test, in a forbidden country or postcode zone, with the point of sale's message in the
buyer's language; unknown places follow the performance's policy.

The cart that calls the check is built separately: the check is exercised through its service,
and the address it is given through :func:`chalicelib.handlers.http.client_address` on a request
shaped as API Gateway sends it."""
from __future__ import annotations

import dataclasses
import secrets

import pytest

from chalicelib.adapters import geoip
from chalicelib.errors import ConcurrentChange, DomainError
from chalicelib.services.shared.audit import write_audited
from chalicelib.services.shop import geo_limits
from chalicelib.services.shop.geo_limits import GENERIC_MESSAGES, GeoRestricted, check_location
from devtools.geo_database import SAMPLE
from tests.api.catalog_helpers import create, history, listing, stranger_headers, world
from tests.api.helpers import assert_problem, call
from tests.conftest import use_geo_database

V4, V6 = 0, 1
STRASBOURG, TARASCON, PARIS, BRUXELLES = SAMPLE["strasbourg"], SAMPLE["tarascon"], SAMPLE["paris"], SAMPLE["bruxelles"]
NO_POSTCODE, UNKNOWN = SAMPLE["france_no_postcode"], SAMPLE["unknown"]
EVERYWHERE = [STRASBOURG, TARASCON, PARIS, BRUXELLES, NO_POSTCODE, UNKNOWN]


@pytest.fixture
def show(client, staff_headers):
    """Two performances of a show (the second never gets a limit)."""
    w = world(client, staff_headers)
    first, second = (create(client, staff_headers, "/performances", {
        "product_id": w["show"]["id"], "venue_id": w["venue"]["id"], "starts_at": starts_at})["id"]
        for starts_at in ("2026-11-14T20:30:00+01:00", "2026-11-15T16:00:00+01:00"))
    return {"performance": first, "other": second}


def _limit(client, headers, performance_id: str, country: str, *prefixes: str, label: str | None = None) -> dict:
    return create(client, headers, f"/performances/{performance_id}/geo-limits",
                  {"country": country, "postcode_prefixes": list(prefixes), "label": label})


def _policy(client, headers, performance_id: str, unknown_location: str) -> dict:
    status, body, _ = call(client, "PUT", f"/performances/{performance_id}/geo-policy", headers,
                           {"unknown_location": unknown_location})
    assert status == 200, body
    return body


def _refused(tenant: str, performance_id: str, address: str | None, *, channel_id: str | None = None,
             language: str = "fr") -> str | None:
    """The refusal's message, or ``None`` when the buyer may buy."""
    try:
        check_location(tenant, performance_id, address, channel_id=channel_id, language=language)
    except GeoRestricted as refusal:
        return refusal.detail
    return None


def _refused_at(tenant: str, performance_id: str, places, version: int = V4) -> set:
    return {place[version] for place in places if _refused(tenant, performance_id, place[version]) is not None}


# -- the seed's cases, IPv4 and IPv6 -----------------------------------------------------------


@pytest.mark.parametrize("version", [V4, V6], ids=["ipv4", "ipv6"])
def test_a_whole_country_is_refused(client, staff_headers, tenant, show, geo_database, version):
    _limit(client, staff_headers, show["performance"], "BE")
    assert _refused_at(tenant, show["performance"], EVERYWHERE, version) == {BRUXELLES[version]}


@pytest.mark.parametrize("version", [V4, V6], ids=["ipv4", "ipv6"])
def test_the_department_prefix_67_refuses_the_bas_rhin_only(client, staff_headers, tenant, show, geo_database,
                                                             version):
    _limit(client, staff_headers, show["performance"], "FR", "67")
    assert _refused_at(tenant, show["performance"], EVERYWHERE, version) == {STRASBOURG[version]}


@pytest.mark.parametrize("version", [V4, V6], ids=["ipv4", "ipv6"])
def test_the_town_13150_is_refused_alone(client, staff_headers, tenant, show, geo_database, version):
    _limit(client, staff_headers, show["performance"], "FR", "13150")
    assert _refused_at(tenant, show["performance"], EVERYWHERE, version) == {TARASCON[version]}


@pytest.mark.parametrize("version", [V4, V6], ids=["ipv4", "ipv6"])
def test_two_limits_on_one_performance_both_refuse_and_another_performance_is_unaffected(
        client, staff_headers, tenant, show, geo_database, version):
    _limit(client, staff_headers, show["performance"], "FR", "67", "13150")
    _limit(client, staff_headers, show["performance"], "BE")
    _policy(client, staff_headers, show["performance"], "refuse")
    assert _refused_at(tenant, show["performance"], [STRASBOURG, TARASCON, PARIS, BRUXELLES], version) == {
        STRASBOURG[version], TARASCON[version], BRUXELLES[version]}
    # the other performance of the same show has no limit: everyone, even from an unknown place, may buy it
    assert _refused_at(tenant, show["other"], EVERYWHERE, version) == set()


def test_an_ipv4_address_written_as_ipv6_is_the_same_place(client, staff_headers, tenant, show, geo_database):
    _limit(client, staff_headers, show["performance"], "FR", "67")
    assert _refused(tenant, show["performance"], f"::ffff:{STRASBOURG[V4]}") is not None
    assert _refused(tenant, show["performance"], f"::ffff:{PARIS[V4]}") is None


# -- unknown places and missing postcodes ------------------------------------------------------


@pytest.mark.parametrize("address", [UNKNOWN[V4], UNKNOWN[V6], None, "", "not-an-address", "127.0.0.1"])
def test_an_unknown_address_follows_the_policy_allow_by_default(client, staff_headers, tenant, show, geo_database,
                                                               address):
    _limit(client, staff_headers, show["performance"], "BE")
    assert call(client, "GET", f"/performances/{show['performance']}/geo-policy", staff_headers)[1][
        "unknown_location"] == "allow"
    assert _refused(tenant, show["performance"], address) is None
    _policy(client, staff_headers, show["performance"], "refuse")
    assert _refused(tenant, show["performance"], address) == GENERIC_MESSAGES["fr"]
    _policy(client, staff_headers, show["performance"], "allow")
    assert _refused(tenant, show["performance"], address) is None


@pytest.mark.parametrize("version", [V4, V6], ids=["ipv4", "ipv6"])
def test_a_missing_postcode_follows_the_policy_where_a_limit_needs_one(client, staff_headers, tenant, show,
                                                                      geo_database, version):
    performance = show["performance"]
    _limit(client, staff_headers, performance, "FR", "67")
    assert _refused(tenant, performance, NO_POSTCODE[version]) is None  # allowed by default
    _policy(client, staff_headers, performance, "refuse")
    assert _refused(tenant, performance, NO_POSTCODE[version]) == GENERIC_MESSAGES["fr"]
    # a known postcode outside the zone is allowed whatever the policy
    assert _refused(tenant, performance, PARIS[version]) is None


@pytest.mark.parametrize("version", [V4, V6], ids=["ipv4", "ipv6"])
def test_a_whole_country_needs_no_postcode_and_a_certain_refusal_wins(client, staff_headers, tenant, show,
                                                                      geo_database, version):
    performance = show["performance"]
    _limit(client, staff_headers, performance, "BE", "10")
    _limit(client, staff_headers, performance, "FR")  # allow policy: still refused, the whole country is forbidden
    assert _refused(tenant, performance, NO_POSTCODE[version]) is not None
    assert _refused(tenant, performance, BRUXELLES[version]) is not None


def test_a_missing_postcode_in_another_country_than_the_limits_is_allowed(client, staff_headers, tenant, show,
                                                                         geo_database):
    _limit(client, staff_headers, show["performance"], "BE", "10")
    _policy(client, staff_headers, show["performance"], "refuse")
    assert _refused(tenant, show["performance"], NO_POSTCODE[V4]) is None  # in France: no limit concerns it


def test_without_a_database_every_place_is_unknown(client, staff_headers, tenant, show, monkeypatch):
    _limit(client, staff_headers, show["performance"], "FR", "67")
    use_geo_database(monkeypatch, "")
    assert _refused(tenant, show["performance"], STRASBOURG[V4]) is None
    use_geo_database(monkeypatch, "/nonexistent/GeoIP2-City.mmdb")  # unreadable: logged, never a 500
    assert geoip.locate(STRASBOURG[V4]).unknown_reason == geoip.DATABASE_UNAVAILABLE
    _policy(client, staff_headers, show["performance"], "refuse")
    assert _refused(tenant, show["performance"], STRASBOURG[V4]) == GENERIC_MESSAGES["fr"]
    geoip.reset()


def test_the_unknown_place_is_logged_with_its_reason(client, staff_headers, tenant, show, geo_database, monkeypatch):
    _limit(client, staff_headers, show["performance"], "FR", "67")
    said = []
    monkeypatch.setattr(geo_limits.logger, "info", lambda message, *args, extra=None: said.append((args, extra)))
    assert _refused(tenant, show["performance"], UNKNOWN[V4]) is None
    assert _refused(tenant, show["performance"], NO_POSTCODE[V6]) is None
    assert [(args, extra["reason"], extra["policy"]) for args, extra in said] == [
        (("allowed",), "not-in-database", "allow"), (("allowed",), "no-postcode", "allow")]
    assert all(UNKNOWN[V4] not in str(extra) for _, extra in said)  # the address itself is not logged


# -- the message of the point of sale ----------------------------------------------------------


def test_the_message_is_the_point_of_sales_in_the_buyers_language_and_generic_by_default(
        client, staff_headers, tenant, show, geo_database, signer):
    performance = show["performance"]
    _limit(client, staff_headers, performance, "FR", "67")
    web = create(client, staff_headers, "/sales-channels", {
        "name": "Billetterie en ligne", "kind": "web",
        "geo_refusal_message": "La vente de ce match est fermée dans votre secteur. Contactez la billetterie.",
        "geo_refusal_message_en": "Sales of this match are closed in your area. Please contact the box office."})
    french_only = create(client, staff_headers, "/sales-channels", {
        "name": "Partenaire", "kind": "partner", "geo_refusal_message": "Vente indisponible."})
    plain = create(client, staff_headers, "/sales-channels", {"name": "Guichet", "kind": "box_office"})
    buyer = STRASBOURG[V4]

    assert _refused(tenant, performance, buyer, channel_id=web["id"]) == web["geo_refusal_message"]
    assert _refused(tenant, performance, buyer, channel_id=web["id"], language="en") == web["geo_refusal_message_en"]
    assert _refused(tenant, performance, buyer, channel_id=french_only["id"]) == "Vente indisponible."
    assert _refused(tenant, performance, buyer, channel_id=french_only["id"], language="en") == \
        "An error occurred while adding to the cart."
    for channel_id in (plain["id"], None, "not-a-channel", "01ARZ3NDEKTSV4RRFFQ69G5FAV"):
        assert _refused(tenant, performance, buyer, channel_id=channel_id) == \
            "Une erreur est survenue lors de l'ajout au panier."
        assert _refused(tenant, performance, buyer, channel_id=channel_id, language="en") == \
            "An error occurred while adding to the cart."

    # another venue's point of sale never lends its words
    theirs = create(client, stranger_headers(signer), "/sales-channels", {
        "name": "Web", "kind": "web", "geo_refusal_message": "Message d'un autre lieu"})
    assert _refused(tenant, performance, buyer, channel_id=theirs["id"]) == GENERIC_MESSAGES["fr"]

    # the message can be changed and cleared like any field of the channel
    status, changed, _ = call(client, "PATCH", f"/sales-channels/{web['id']}", staff_headers,
                              {"geo_refusal_message_en": None})
    assert status == 200 and changed["geo_refusal_message_en"] is None
    assert _refused(tenant, performance, buyer, channel_id=web["id"], language="en-GB") == GENERIC_MESSAGES["en"]


def test_the_refusal_is_a_4xx_problem_that_never_says_the_rule(client, staff_headers, tenant, show, geo_database):
    from chalicelib.handlers.http import problem_response

    _limit(client, staff_headers, show["performance"], "FR", "67", label="Derby: supporters du Racing")
    with pytest.raises(GeoRestricted) as refused:
        check_location(tenant, show["performance"], STRASBOURG[V6], channel_id=None, language="en")
    error = refused.value
    assert isinstance(error, DomainError) and error.status == 403 and error.kind == "geo-restricted"
    answer = problem_response(error)
    assert answer.status_code == 403 and answer.headers["Content-Type"] == "application/problem+json"
    text = answer.body
    for revealing in ("67", "FR", "Strasbourg", "Derby", "postcode", "country", STRASBOURG[V6]):
        assert revealing not in text


# -- the buyer's address: what API Gateway saw, never X-Forwarded-For ---------------------------


def _gateway_request(source_ip: str, headers: dict):
    """A Chalice request as API Gateway (REST, proxy integration) hands it to the Lambda."""
    from chalice.app import Request

    return Request({
        "resource": "/shop/{tenant_id}/cart", "path": "/shop/theatre-lyon/cart", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"tenant_id": "theatre-lyon"}, "stageVariables": None, "body": "{}",
        "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/shop/{tenant_id}/cart", "httpMethod": "POST", "path": "/api/shop",
                           "stage": "api", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                           "identity": {"sourceIp": source_ip, "userAgent": "Mozilla/5.0"}},
    })


def test_a_spoofed_x_forwarded_for_is_ignored(client, staff_headers, tenant, show, geo_database, monkeypatch):
    from chalicelib.handlers import http

    _limit(client, staff_headers, show["performance"], "FR", "67")
    spoofed = {"content-type": "application/json", "x-forwarded-for": f"{PARIS[V4]}, {BRUXELLES[V4]}",
               "x-real-ip": PARIS[V4], "forwarded": f"for={PARIS[V4]}", http.LOCAL_SOURCE_IP_HEADER: PARIS[V4]}
    for stage in ("test", "prod"):
        monkeypatch.setattr(http, "settings", dataclasses.replace(http.settings, stage=stage,
                                                                  local_source_ip_header=True,
                                                                  local_source_ip=PARIS[V4]))
        for source in STRASBOURG:
            address = http.client_address(_gateway_request(source, spoofed))
            assert address == source
            assert _refused(tenant, show["performance"], address) is not None


def test_the_local_stack_can_force_the_source_address(monkeypatch):
    from chalicelib.handlers import http

    local = dataclasses.replace(http.settings, stage="dev", local_source_ip=None, local_source_ip_header=False)
    monkeypatch.setattr(http, "settings", local)
    forced = {http.LOCAL_SOURCE_IP_HEADER: STRASBOURG[V4]}
    assert http.client_address(_gateway_request("127.0.0.1", forced)) == "127.0.0.1"  # header off: ignored
    monkeypatch.setattr(http, "settings", dataclasses.replace(local, local_source_ip_header=True))
    assert http.client_address(_gateway_request("127.0.0.1", forced)) == STRASBOURG[V4]
    assert http.client_address(_gateway_request("127.0.0.1", {})) == "127.0.0.1"
    monkeypatch.setattr(http, "settings", dataclasses.replace(local, local_source_ip=TARASCON[V6]))
    assert http.client_address(_gateway_request("127.0.0.1", forced)) == TARASCON[V6]


def test_make_dev_points_the_app_at_the_test_database_and_allows_the_header(monkeypatch, tmp_path):
    import geoip2.database

    from devtools import dev

    class Engine:
        url, smtp_port = "http://127.0.0.1:1", 1

    monkeypatch.setattr(dev, "GEOIP_DATABASE", tmp_path / "GeoIP2-City-test.mmdb")
    env = dev.stack_environment(Engine(), Engine(), Engine(), Engine(), "http://127.0.0.1:2", tmp_path / "jwks.json",
                                webhook_secret="whsec_x")
    assert env["LOCAL_SOURCE_IP_HEADER"] == "true" and env["GEOIP_DATABASE"] == str(tmp_path / "GeoIP2-City-test.mmdb")
    with geoip2.database.Reader(env["GEOIP_DATABASE"]) as reader:
        assert reader.city(STRASBOURG[V4]).postal.code == "67000"


# -- the database from S3, once per container -------------------------------------------------


def test_the_database_is_read_from_s3_once_per_container(geo_database_file, monkeypatch):
    from chalicelib.adapters.aws import client as aws_client

    s3 = aws_client("s3")
    bucket = f"geoip-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.upload_file(str(geo_database_file), bucket, "maxmind/GeoIP2-City.mmdb")
    downloads = []
    real_download = geoip._local_path
    monkeypatch.setattr(geoip, "_local_path", lambda source: downloads.append(source) or real_download(source))
    use_geo_database(monkeypatch, f"s3://{bucket}/maxmind/GeoIP2-City.mmdb")
    try:
        assert geoip.locate(STRASBOURG[V4]) == geoip.Location("FR", "67000")
        assert geoip.locate(BRUXELLES[V6]) == geoip.Location("BE", "1000")
        assert geoip.locate(UNKNOWN[V4]) == geoip.Location(unknown_reason=geoip.NOT_IN_DATABASE)
        assert downloads == [f"s3://{bucket}/maxmind/GeoIP2-City.mmdb"]
    finally:
        geoip.reset()


# -- staff: create, list, change, delete, audited; bad input; other tenants -------------------


def test_staff_create_list_change_and_delete_limits_audited(client, staff_headers, tenant, show, geo_database):
    performance = show["performance"]
    base = f"/performances/{performance}/geo-limits"
    bas_rhin = _limit(client, staff_headers, performance, "FR", "67", "67", label="Bas-Rhin")
    assert bas_rhin["postcode_prefixes"] == ["67"] and bas_rhin["country"] == "FR"
    assert bas_rhin["performance_id"] == performance and bas_rhin["label"] == "Bas-Rhin"
    belgium = _limit(client, staff_headers, performance, "BE")
    assert belgium["postcode_prefixes"] == [] and belgium["label"] is None
    assert [item["id"] for item in listing(client, staff_headers, base)] == [bas_rhin["id"], belgium["id"]]
    assert listing(client, staff_headers, f"/performances/{show['other']}/geo-limits") == []
    assert call(client, "GET", f"{base}/{bas_rhin['id']}", staff_headers)[1] == bas_rhin

    status, changed, _ = call(client, "PATCH", f"{base}/{bas_rhin['id']}", staff_headers,
                              {"postcode_prefixes": ["67", "68"], "label": None})
    assert status == 200 and changed["postcode_prefixes"] == ["67", "68"] and changed["label"] is None
    assert changed["version"] == bas_rhin["version"] + 1
    status, gone, _ = call(client, "DELETE", f"{base}/{belgium['id']}", staff_headers)
    assert status == 204 and gone is None
    assert_problem(call(client, "GET", f"{base}/{belgium['id']}", staff_headers), 404)
    assert_problem(call(client, "DELETE", f"{base}/{belgium['id']}", staff_headers), 404)
    assert [item["id"] for item in listing(client, staff_headers, base)] == [bas_rhin["id"]]
    assert _refused(tenant, performance, BRUXELLES[V4]) is None  # the deleted limit no longer applies

    assert history(client, staff_headers, "geo_limit", bas_rhin["id"]) == ["create", "update"]
    assert history(client, staff_headers, "geo_limit", belgium["id"]) == ["create", "delete"]
    status, events, _ = call(client, "GET", f"/audit/geo_limit/{bas_rhin['id']}", staff_headers)
    assert events["items"][1]["before"]["postcode_prefixes"] == ["67"]
    assert events["items"][1]["after"]["postcode_prefixes"] == ["67", "68"]
    assert events["items"][1]["actor"] == "staff-1"

    assert _policy(client, staff_headers, performance, "refuse")["unknown_location"] == "refuse"
    assert _policy(client, staff_headers, performance, "allow")["unknown_location"] == "allow"
    assert history(client, staff_headers, "geo_policy", performance) == ["create", "update"]


def test_a_stale_change_is_refused(client, staff_headers, actor, show):
    limit = _limit(client, staff_headers, show["performance"], "FR", "67")
    mine = geo_limits.get_limit(actor, show["performance"], limit["id"])
    geo_limits.change_limit(actor, show["performance"], limit["id"], {"postcode_prefixes": ["68"]})
    with pytest.raises(ConcurrentChange):  # a copy read before that change cannot overwrite it
        write_audited(actor, _with_prefixes(mine, ["69"]), action="update", before=None)
    assert geo_limits.get_limit(actor, show["performance"], limit["id"]).postcode_prefixes == ["68"]


def _with_prefixes(limit, prefixes):
    limit.postcode_prefixes = prefixes
    return limit


@pytest.mark.parametrize("payload, field", [
    ({"country": "ZZ"}, "country"),
    ({"country": "UK"}, "country"),
    ({"country": "fr"}, "country"),
    ({"country": "FRA"}, "country"),
    ({"postcode_prefixes": ["67"]}, "country"),
    ({"country": "FR", "postcode_prefixes": ["67 0"]}, "postcode_prefixes.0"),
    ({"country": "FR", "postcode_prefixes": ["67", "13 150"]}, "postcode_prefixes.1"),
    ({"country": "GB", "postcode_prefixes": ["SW1A 1"]}, "postcode_prefixes.0"),
    ({"country": "FR", "postcode_prefixes": ["67A"]}, "postcode_prefixes.0"),
    ({"country": "BE", "postcode_prefixes": ["B1000"]}, "postcode_prefixes.0"),
    ({"country": "PL", "postcode_prefixes": ["00-9"]}, "postcode_prefixes.0"),
    ({"country": "GB", "postcode_prefixes": ["sw1a"]}, "postcode_prefixes.0"),
    ({"country": "FR", "postcode_prefixes": [""]}, "postcode_prefixes.0"),
    ({"country": "FR", "postcode_prefixes": ["67000000000"]}, "postcode_prefixes.0"),
    ({"country": "FR", "postcode_prefixes": "67"}, "postcode_prefixes"),
    ({"country": "FR", "postcode_prefixes": ["6"] * 201}, "postcode_prefixes"),
    ({"country": "FR", "label": "a\nb"}, "label"),
    ({"country": "FR", "zone": "67"}, "zone"),
])
def test_bad_limits_are_422_naming_the_field(client, staff_headers, show, payload, field):
    path = f"/performances/{show['performance']}/geo-limits"
    assert_problem(call(client, "POST", path, staff_headers, payload), 422, field)
    assert listing(client, staff_headers, path) == []


def test_letters_are_allowed_where_postcodes_have_them(client, staff_headers, show):
    for country, prefix in (("GB", "SW1A"), ("NL", "1012AB"), ("CA", "H3A"), ("IE", "D02")):
        assert _limit(client, staff_headers, show["performance"], country, prefix)["postcode_prefixes"] == [prefix]


def test_a_change_is_checked_on_the_limit_as_it_will_be(client, staff_headers, show):
    base = f"/performances/{show['performance']}/geo-limits"
    london = _limit(client, staff_headers, show["performance"], "GB", "SW1A")
    assert_problem(call(client, "PATCH", f"{base}/{london['id']}", staff_headers, {"country": "FR"}), 422,
                   "postcode_prefixes.0")  # the old prefix has letters: not a French one
    assert_problem(call(client, "PATCH", f"{base}/{london['id']}", staff_headers, {"country": None}), 422, "country")
    status, changed, _ = call(client, "PATCH", f"{base}/{london['id']}", staff_headers,
                              {"country": "FR", "postcode_prefixes": ["75"]})
    assert status == 200 and (changed["country"], changed["postcode_prefixes"]) == ("FR", ["75"])
    assert_problem(call(client, "PUT", f"/performances/{show['performance']}/geo-policy", staff_headers,
                        {"unknown_location": "maybe"}), 422, "unknown_location")


def test_unknown_performances_and_limits_are_404(client, staff_headers, show):
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for method, path, payload in [
        ("POST", f"/performances/{missing}/geo-limits", {"country": "FR"}),
        ("GET", f"/performances/{missing}/geo-limits", None),
        ("GET", f"/performances/{missing}/geo-policy", None),
        ("PUT", f"/performances/{missing}/geo-policy", {"unknown_location": "refuse"}),
        ("GET", f"/performances/{show['performance']}/geo-limits/{missing}", None),
        ("PATCH", f"/performances/{show['performance']}/geo-limits/not-an-id", {"label": "x"}),
        ("DELETE", f"/performances/{show['performance']}/geo-limits/{missing}", None),
    ]:
        assert_problem(call(client, method, path, staff_headers, payload), 404)


def test_another_tenant_sees_and_changes_nothing(client, staff_headers, signer, tenant, show, geo_database):
    performance = show["performance"]
    limit = _limit(client, staff_headers, performance, "FR", "67", label="secret zone")
    _policy(client, staff_headers, performance, "refuse")
    stranger = stranger_headers(signer)
    base = f"/performances/{performance}/geo-limits"
    for method, path, payload in [
        ("GET", base, None), ("POST", base, {"country": "BE"}), ("GET", f"{base}/{limit['id']}", None),
        ("PATCH", f"{base}/{limit['id']}", {"postcode_prefixes": []}), ("DELETE", f"{base}/{limit['id']}", None),
        ("GET", f"/performances/{performance}/geo-policy", None),
        ("PUT", f"/performances/{performance}/geo-policy", {"unknown_location": "allow"}),
    ]:
        status, body, _ = call(client, method, path, stranger, payload)
        assert status == 404 and "secret zone" not in str(body), (method, path, body)
    assert call(client, "GET", f"{base}/{limit['id']}", staff_headers)[1] == limit
    assert _refused(tenant, performance, STRASBOURG[V4]) is not None
    assert _refused(tenant, performance, UNKNOWN[V4]) is not None  # the policy stayed "refuse"
    # the check of another tenant with A's performance id finds no limit
    from tests.conftest import new_tenant_id

    assert _refused(new_tenant_id(), performance, STRASBOURG[V4]) is None


# -- what the check reads ----------------------------------------------------------------------


@pytest.fixture
def dynamodb_calls(monkeypatch):
    import botocore.client

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recorded(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recorded)
    return calls


def test_the_check_reads_the_limits_with_one_query_and_more_only_when_it_must(
        client, staff_headers, tenant, show, geo_database, dynamodb_calls, monkeypatch):
    performance = show["performance"]
    _limit(client, staff_headers, performance, "FR", "67")
    _limit(client, staff_headers, performance, "BE")
    looked_up = []
    real_locate = geoip.locate
    monkeypatch.setattr(geoip, "locate", lambda address: looked_up.append(address) or real_locate(address))

    dynamodb_calls.clear()
    assert _refused(tenant, show["other"], STRASBOURG[V4]) is None
    assert dynamodb_calls == ["Query"] and looked_up == []  # no limit: no geolocation at all

    dynamodb_calls.clear()
    assert _refused(tenant, performance, PARIS[V4]) is None
    assert dynamodb_calls == ["Query"] and looked_up == [PARIS[V4]]

    dynamodb_calls.clear()
    assert _refused(tenant, performance, UNKNOWN[V4]) is None
    assert dynamodb_calls == ["Query", "GetItem"]  # the policy, only for an unknown place

    dynamodb_calls.clear()
    assert _refused(tenant, performance, STRASBOURG[V4], channel_id="01ARZ3NDEKTSV4RRFFQ69G5FAV") is not None
    assert dynamodb_calls == ["Query", "GetItem"]  # the point of sale's message, only for a refusal


# -- staff trying an address -------------------------------------------------------------------


def _channel(client, headers, **messages) -> str:
    return create(client, headers, "/sales-channels", {"name": "Internet", "kind": "web", **messages})["id"]


def test_trying_an_address_says_what_the_check_decides_and_why(client, staff_headers, actor, show, geo_database):
    performance = show["performance"]
    channel = _channel(client, staff_headers, geo_refusal_message="Appelez la billetterie.")
    untouched = geo_limits.try_location(actor, performance, STRASBOURG[V4])
    assert (untouched.refused, untouched.verdict.reason, untouched.location) == (
        False, "no-limits", geoip.Location("FR", "67000"))  # located all the same, for staff to see
    _limit(client, staff_headers, performance, "FR", "67")

    refused = geo_limits.try_location(actor, performance, f" {STRASBOURG[V6]} ", channel_id=channel)
    assert refused.refused and refused.verdict.reason == "postcode" and refused.policy is None
    assert refused.messages == {"fr": "Appelez la billetterie.", "en": GENERIC_MESSAGES["en"]}
    assert refused.messages["fr"] == _refused(actor.tenant_id, performance, STRASBOURG[V6], channel_id=channel)

    outside = geo_limits.try_location(actor, performance, PARIS[V4])
    assert (outside.refused, outside.verdict.reason, outside.messages) == (False, "outside", {})
    unsure = geo_limits.try_location(actor, performance, NO_POSTCODE[V4])
    assert (unsure.refused, unsure.verdict.reason, unsure.policy) == (False, "no-postcode", "allow")
    _policy(client, staff_headers, performance, "refuse")
    for address in (NO_POSTCODE[V4], UNKNOWN[V6]):  # each exactly as the check decides it
        tried = geo_limits.try_location(actor, performance, address)
        assert tried.refused and tried.policy == "refuse" and tried.messages["fr"] == GENERIC_MESSAGES["fr"]
        assert _refused(actor.tenant_id, performance, address) == GENERIC_MESSAGES["fr"]


def test_trying_a_malformed_address_or_another_venues_ids_is_refused(client, staff_headers, signer, actor, show,
                                                                       geo_database):
    from chalicelib.errors import InvalidInput, NotFound
    from chalicelib.services.shared.actors import Actor
    from tests.conftest import new_tenant_id

    for typed in ("", "999.1.2.3", "Strasbourg", "192.0.2.10/24"):
        with pytest.raises(InvalidInput) as refused:
            geo_limits.try_location(actor, show["performance"], typed)
        assert [error.field for error in refused.value.errors] == ["address"]
    stranger = Actor(new_tenant_id(), "someone", frozenset({"staff"}))
    with pytest.raises(NotFound):
        geo_limits.try_location(stranger, show["performance"], PARIS[V4])
    their_token = signer.mint(stranger.tenant_id, ["staff"], "someone")
    other_channel = _channel(client, {**staff_headers, "Authorization": f"Bearer {their_token}"})
    with pytest.raises(NotFound):
        geo_limits.try_location(actor, show["performance"], PARIS[V4], channel_id=other_channel)
