"""CloudFormation for what the app uses besides its Lambdas, merged into ``chalice package``.

- The DynamoDB tables, generated from the PynamoDB models: the models are the single
  description of tables and indexes, so the tables deployed are exactly the ones the code
  queries (and the ones created locally).
- The jobs queue, with a dead-letter queue that gives up only after the jobs framework
  itself has (``MAX_DELIVERIES``), and a visibility timeout six times the jobs Lambda's.
- The mail-events topic, the SES configuration set publishing every delivery event to it, and
  the queue where an event the mail-events Lambda failed on lands after Lambda's retries.
- The exports bucket (``EXPORTS_BUCKET``, CSV exports of the orders list): private (public
  access blocked, bucket-owner objects, TLS only), encrypted with SSE-S3 (so part ETags are
  MD5s, which the export relies on), files expired after 7 days and unfinished multipart
  uploads aborted after 1 day.
- Throttling of the API's stage and a WAF rate-based rule on the public routes.

Names come from the settings of the stage being packaged (``STAGE=prod``):

    STAGE=prod python -m infra.template > .local/infra/prod.json
    STAGE=prod chalice package --stage prod --merge-template .local/infra/prod.json out/
"""
from __future__ import annotations

import json
import re
import sys


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
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": properties}


def logical_name(kind: str, name: str) -> str:
    return kind + "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", name))


JOBS_LAMBDA_TIMEOUT_SECONDS = 300


def messaging_resources() -> dict:
    from chalicelib.config import settings
    from chalicelib.services.jobs.framework import MAX_DELIVERIES

    dead_letters = f"{settings.jobs_queue}-dead-letters"
    return {
        "JobsDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": dead_letters, "MessageRetentionPeriod": 1_209_600}},
        "JobsQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": settings.jobs_queue, "VisibilityTimeout": 6 * JOBS_LAMBDA_TIMEOUT_SECONDS,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": MAX_DELIVERIES + 5}}},
        "MailEventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": settings.mail_events_topic}},
        # SNS invokes the mail-events Lambda asynchronously: after Lambda's retries, an event that
        # still fails lands here (kept 14 days) instead of being lost.
        "MailEventsDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{settings.mail_events_topic}-failed", "MessageRetentionPeriod": 1_209_600}},
        "MailEventsOnFailure": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "MailEvents"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]}}}}},
        "MailEventsOnFailurePolicy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "mail-events-on-failure", "Roles": [{"Ref": "MailEventsRole"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]}}]}}},
        "MailConfigurationSet": {"Type": "AWS::SES::ConfigurationSet", "Properties": {
            "Name": settings.ses_configuration_set or f"ticketing-{settings.stage}"}},
        "MailEventsDestination": {"Type": "AWS::SES::ConfigurationSetEventDestination", "Properties": {
            "ConfigurationSetName": {"Ref": "MailConfigurationSet"},
            "EventDestination": {
                "Name": "delivery-events", "Enabled": True,
                "MatchingEventTypes": ["send", "delivery", "bounce", "complaint", "reject", "deliveryDelay",
                                       "renderingFailure", "subscription"],
                "SnsDestination": {"TopicARN": {"Ref": "MailEventsTopic"}}}}},
    }


EXPORTS_EXPIRE_DAYS = 7
UNFINISHED_UPLOADS_ABORT_DAYS = 1


def storage_resources() -> dict:
    from chalicelib.config import settings

    bucket = settings.exports_bucket
    return {
        # Retained like the tables: a stack deletion must not fail on a bucket holding files
        # (which expire by themselves anyway).
        "ExportsBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {
            "BucketName": bucket,
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{
                "Id": "expire-exports", "Status": "Enabled", "ExpirationInDays": EXPORTS_EXPIRE_DAYS,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": UNFINISHED_UPLOADS_ABORT_DAYS}}]}}},
        "ExportsBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "ExportsBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
    }


API_RATE_PER_SECOND, API_BURST = 50, 100
CHECKOUT_RATE_PER_SECOND, CHECKOUT_BURST = 5, 10
PUBLIC_REQUESTS_PER_5_MINUTES = 300  # per client address, on the shop and the spectators' pages


def edge_protection_resources() -> dict:
    """Throttling on the API's stage (merged into Chalice's ``RestAPI``) and a WAF web ACL whose
    rate-based rule blocks a client address hammering the public routes: they bound what a
    client can ask, the shop's hold slots bound what it can keep."""
    public_paths = [{"ByteMatchStatement": {
        "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH", "SearchString": prefix,
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}} for prefix in ("/shop/", "/p/")]
    return {
        "RestAPI": {"Properties": {"MethodSettings": [
            {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": API_RATE_PER_SECOND,
             "ThrottlingBurstLimit": API_BURST},
            {"ResourcePath": "/~1shop~1{tenant_id}~1checkout", "HttpMethod": "POST",
             "ThrottlingRateLimit": CHECKOUT_RATE_PER_SECOND, "ThrottlingBurstLimit": CHECKOUT_BURST}]}},
        "PublicRoutesWebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": "ticketing-public"},
            "Rules": [{"Name": "public-routes-rate", "Priority": 0, "Action": {"Block": {}},
                       "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                            "MetricName": "ticketing-public-rate"},
                       "Statement": {"RateBasedStatement": {
                           "Limit": PUBLIC_REQUESTS_PER_5_MINUTES, "AggregateKeyType": "IP",
                           "ScopeDownStatement": {"OrStatement": {"Statements": public_paths}}}}}]}},
        "PublicRoutesWebAclAssociation": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {
            "WebACLArn": {"Fn::GetAtt": ["PublicRoutesWebAcl", "Arn"]},
            "ResourceArn": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}::/restapis/${RestAPI}"
                                       "/stages/${RestAPI.Stage}"}}},
    }


def template() -> dict:
    from chalicelib.models.registry import MODELS

    resources = {logical_name("Table", model.Meta.table_name): table_resource(model) for model in MODELS}
    resources.update(messaging_resources())
    resources.update(storage_resources())
    resources.update(edge_protection_resources())
    return {"Resources": resources}


if __name__ == "__main__":
    json.dump(template(), sys.stdout, indent=2)
