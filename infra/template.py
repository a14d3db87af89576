"""CloudFormation for the whole stack, merged into ``chalice package``'s output (Chalice writes
the Lambdas, the API and the schedules; this adds everything else and completes the Lambdas).

Every name comes from the code, so the stack cannot drift from what the code uses:

- The DynamoDB tables, generated from the PynamoDB models: the models are the single
  description of tables and indexes, so the tables deployed are exactly the ones the code
  queries (and the ones created locally). Retained on deletion and on replacement.
- The queues, each with its dead-letter queue (:mod:`infra.messaging`), the mail-events topic
  and the SES configuration set publishing every delivery event to it.
- The buckets (:func:`storage_resources`), named from the account and region (bucket names are
  global): exports (files expired after 7 days) and card images; private, encrypted, TLS only.
- The staff user pool (:mod:`infra.identity`), each function's role (:mod:`infra.policies`),
  name, environment and log group (:mod:`infra.functions`), and the alarms (:mod:`infra.alarms`).
- Throttling of the API's stage and a WAF rate-based rule on the public routes.

The stage's own values (domain, mail sender, user pool settings, alarm address) are the
template's parameters, given at deploy time from ``infra/stages/<stage>.json``
(:mod:`infra.deploy`). No secret is in the template: the app reads them from SSM Parameter
Store at run time.

    STAGE=prod python -m infra.template > .local/infra/prod.json

(``make package STAGE=prod`` runs this and ``chalice package`` with the right environment.)
"""
from __future__ import annotations

import json
import re
import sys

from infra import alarms, functions, identity, messaging, policies
from infra.stage import retained


def _key_schema(keys: list[dict]) -> list[dict]:
    # DynamoDB wants HASH before RANGE.
    return sorted(({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys),
                  key=lambda k: k["KeyType"] != "HASH")


def table_resource(model) -> dict:
    schema = model._get_schema()
    properties: dict = {
        "TableName": model.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    indexes = [{"IndexName": index["index_name"], "KeySchema": _key_schema(index["key_schema"]),
                "Projection": index["projection"]} for index in schema["global_secondary_indexes"]]
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    ttl = model._ttl_attribute()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", **retained(),
            "Properties": properties,
            "Metadata": {"checkov": {"skip": [{
                "id": "CKV_AWS_119",
                "comment": "Encrypted at rest with the AWS managed key (SSESpecification); a customer managed "
                           "key would add a key policy and a cost per table for no access we need to separate."}]}}}


def logical_name(kind: str, name: str) -> str:
    return kind + "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", name))


def tables() -> dict:
    from chalicelib.models.registry import MODELS

    return {logical_name("Table", model.Meta.table_name): table_resource(model) for model in MODELS}


EXPORTS_EXPIRE_DAYS = 7
UNFINISHED_UPLOADS_ABORT_DAYS = 1


def bucket_name(base: str) -> dict:
    """``base`` made globally unique by the account and region (a bucket name is global)."""
    return {"Fn::Sub": f"{base}-${{AWS::AccountId}}-${{AWS::Region}}"}


def _private_bucket(base: str, rules: list[dict]) -> dict:
    return {"Type": "AWS::S3::Bucket", **retained(), "Properties": {
        "BucketName": bucket_name(base),
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "LifecycleConfiguration": {"Rules": rules}},
        "Metadata": {"checkov": {"skip": [
            {"id": "CKV_AWS_18", "comment": "Objects are written and read by the app's roles only (CloudTrail "
                                            "data events can be enabled account-wide if access logs are wanted)."},
            {"id": "CKV_AWS_21", "comment": "Versioning off on purpose: exports expire, card images are "
                                            "rendered again from the data; old versions would outlive them."}]}}}


def _tls_only(logical: str) -> dict:
    return {"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": {"Ref": logical},
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [{"Fn::GetAtt": [logical, "Arn"]}, {"Fn::Sub": f"${{{logical}.Arn}}/*"}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}


def storage_resources() -> dict:
    """The exports bucket (``EXPORTS_BUCKET``, CSV exports of the orders list): SSE-S3 (so part
    ETags are MD5s, which the export relies on), files expired after 7 days and unfinished
    multipart uploads aborted after 1 day. The card images bucket (``CARD_IMAGES_BUCKET``, the
    rendered card faces under ``{tenant}/{site}/{job}/``): unfinished uploads aborted. Both
    private (public access blocked, bucket-owner objects, TLS only) and retained like the tables:
    a stack deletion must not fail on, or lose, a bucket holding files."""
    from chalicelib.config import settings

    abort = {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": UNFINISHED_UPLOADS_ABORT_DAYS}}
    return {
        "ExportsBucket": _private_bucket(settings.exports_bucket, [{
            "Id": "expire-exports", "Status": "Enabled", "ExpirationInDays": EXPORTS_EXPIRE_DAYS, **abort}]),
        "ExportsBucketPolicy": _tls_only("ExportsBucket"),
        "CardImagesBucket": _private_bucket(settings.card_images_bucket, [{
            "Id": "abort-unfinished-uploads", "Status": "Enabled", **abort}]),
        "CardImagesBucketPolicy": _tls_only("CardImagesBucket"),
    }


API_RATE_PER_SECOND, API_BURST = 50, 100
CHECKOUT_RATE_PER_SECOND, CHECKOUT_BURST = 5, 10
PUBLIC_REQUESTS_PER_5_MINUTES = 300  # per client address, on the shop and the spectators' pages
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "time": "$context.requestTime",
    "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "latencyMs": "$context.responseLatency", "length": "$context.responseLength"})


def edge_protection_resources() -> dict:
    """Throttling on the API's stage (merged into Chalice's ``RestAPI``) and a WAF web ACL whose
    rate-based rule blocks a client address hammering the public routes: they bound what a
    client can ask, the shop's hold slots bound what it can keep. The ACL also blocks the
    request patterns of known exploits (AWS's "known bad inputs" rules: Log4Shell and the like).
    The stage's access log goes to its own log group (no request body, no token: addresses,
    paths and statuses)."""
    public_paths = [{"ByteMatchStatement": {
        "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH", "SearchString": prefix,
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}} for prefix in ("/shop/", "/p/")]
    return {
        "RestAPI": {"Properties": {
            "Name": _stack_prefix(),  # the API's metrics (and its 5xx alarm) are by this name
            "TracingEnabled": True,  # X-Ray traces start at the API and follow into the Lambda
            "MethodSettings": [
                {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": API_RATE_PER_SECOND,
                 "ThrottlingBurstLimit": API_BURST},
                {"ResourcePath": "/~1shop~1{tenant_id}~1checkout", "HttpMethod": "POST",
                 "ThrottlingRateLimit": CHECKOUT_RATE_PER_SECOND, "ThrottlingBurstLimit": CHECKOUT_BURST}],
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                                 "Format": ACCESS_LOG_FORMAT}},
            "Metadata": {"checkov": {"skip": [
                {"id": "CKV_AWS_120", "comment": "No response caching: every answer is per tenant or per buyer."},
                {"id": "CKV_AWS_59", "comment": "Staff routes check a Cognito token in the app (chalicelib/"
                                                "handlers/http.py); the shop and spectators' pages are public by "
                                                "design, signed links where they name a person."}]}}},
        "ApiAccessLogGroup": functions.log_group(f"/aws/apigateway/{_stack_prefix()}-access"),
        "PublicRoutesWebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": "ticketing-public"},
            "Rules": [{"Name": "public-routes-rate", "Priority": 0, "Action": {"Block": {}},
                       "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                            "MetricName": "ticketing-public-rate"},
                       "Statement": {"RateBasedStatement": {
                           "Limit": PUBLIC_REQUESTS_PER_5_MINUTES, "AggregateKeyType": "IP",
                           "ScopeDownStatement": {"OrStatement": {"Statements": public_paths}}}}},
                      {"Name": "known-bad-inputs", "Priority": 1, "OverrideAction": {"None": {}},
                       "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                            "MetricName": "ticketing-known-bad-inputs"},
                       "Statement": {"ManagedRuleGroupStatement": {
                           "VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}}}]}},
        "PublicRoutesWebAclAssociation": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {
            "WebACLArn": {"Fn::GetAtt": ["PublicRoutesWebAcl", "Arn"]},
            "ResourceArn": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}"
                                       "/stages/${RestAPI.Stage}"}}},
    }


def _stack_prefix() -> str:
    from chalicelib.config import settings

    return f"ticketing-{settings.stage}"


# The stage's values, from infra/stages/<stage>.json at deploy time.
PARAMETERS = {
    "Domain": {"Type": "String", "AllowedPattern": r"^[a-z0-9.-]+\.[a-z]{2,}$",
               "Description": "The public host name of the app (links in mails, pages): billetterie.example.org"},
    "CertificateArn": {"Type": "String", "Default": "",
                       "Description": "An ACM certificate of Domain in this region; empty: no custom domain yet"},
    "MailFromAddress": {"Type": "String", "AllowedPattern": r"^[^@\s]+@[a-z0-9.-]+\.[a-z]{2,}$",
                        "Description": "The sender of every mail; its domain must be a verified SES identity"},
    "AlarmEmail": {"Type": "String", "AllowedPattern": r"^[^@\s]+@[^@\s]+$",
                   "Description": "Who receives the alarms (confirms the subscription mail once)"},
    "UserPoolMfa": {"Type": "String", "AllowedValues": ["OFF", "OPTIONAL", "ON"], "Default": "ON",
                    "Description": "Second factor for staff sign-in (TOTP)"},
    "StaffSessionMinutes": {"Type": "Number", "MinValue": 5, "MaxValue": 1440, "Default": 60,
                            "Description": "Lifetime of a staff ID or access token"},
    "StaffRefreshDays": {"Type": "Number", "MinValue": 1, "MaxValue": 30, "Default": 1,
                         "Description": "How long a staff member stays signed in without a password"},
    "GeoIpDatabaseObject": {"Type": "String", "Default": "",
                            "Description": "bucket/key of the GeoIP2 City database; empty: no geographic limits"},
}
CONDITIONS = {
    "HasCustomDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]},
    "HasGeoIpDatabase": {"Fn::Not": [{"Fn::Equals": [{"Ref": "GeoIpDatabaseObject"}, ""]}]},
    "HasStaffMfa": {"Fn::Not": [{"Fn::Equals": [{"Ref": "UserPoolMfa"}, "OFF"]}]},
}


def custom_domain_resources() -> dict:
    """The app's domain on the API (when a certificate is given): point the domain's DNS at the
    ``ApiDomainTarget`` output."""
    return {
        "ApiDomain": {"Type": "AWS::ApiGateway::DomainName", "Condition": "HasCustomDomain", "Properties": {
            "DomainName": {"Ref": "Domain"}, "RegionalCertificateArn": {"Ref": "CertificateArn"},
            "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"}},
        "ApiDomainMapping": {"Type": "AWS::ApiGateway::BasePathMapping", "Condition": "HasCustomDomain",
                             "Properties": {"DomainName": {"Ref": "ApiDomain"}, "RestApiId": {"Ref": "RestAPI"},
                                            "Stage": {"Ref": "RestAPI.Stage"}}},
    }


OUTPUTS = {
    "UserPoolId": {"Value": {"Ref": "StaffUserPool"}},
    "UserPoolClientId": {"Value": {"Ref": "StaffUserPoolClient"}},
    "ExportsBucketName": {"Value": {"Ref": "ExportsBucket"}},
    "CardImagesBucketName": {"Value": {"Ref": "CardImagesBucket"}},
    "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
    "ApiDomainTarget": {"Condition": "HasCustomDomain",
                        "Value": {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]}},
}


def template() -> dict:
    app_functions = functions.app_functions()
    resources = tables()
    resources.update(messaging.resources())
    resources.update(storage_resources())
    resources.update(edge_protection_resources())
    resources.update(custom_domain_resources())
    resources.update(identity.resources())
    resources.update(functions.resources(app_functions))
    resources.update(policies.resources(app_functions))
    resources.update(alarms.resources(app_functions))
    return {"Parameters": PARAMETERS, "Conditions": CONDITIONS, "Resources": resources, "Outputs": OUTPUTS}


if __name__ == "__main__":
    json.dump(template(), sys.stdout, indent=2)
