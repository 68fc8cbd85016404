"""The embedded stack creates the resources the IaC describes (chalicelib.resources)."""

from __future__ import annotations

import json

from chalicelib import aws
from chalicelib.resources import (
    ABORT_INCOMPLETE_MULTIPART_DAYS,
    DATA_PREFIX,
    INGEST_MAX_RECEIVE_COUNT,
    INGEST_VISIBILITY_TIMEOUT_SECONDS,
)
from chalicelib.settings import Settings
from local import provision


def test_tables_have_generic_keys_their_indexes_on_demand_billing_and_ttl(moto_aws: Settings) -> None:
    for name, indexes in (
        (moto_aws.files_table, {"gsi1", "gsi2"}),
        (moto_aws.records_table, {"gsi1", "gsi2"}),
        (moto_aws.sessions_table, set()),
    ):
        table = aws.dynamodb().describe_table(TableName=name)["Table"]
        assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == indexes
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        ttl = aws.dynamodb().describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_the_data_bucket_lets_browsers_upload_and_read_part_etags(moto_aws: Settings) -> None:
    rules = aws.s3().get_bucket_cors(Bucket=moto_aws.data_bucket)["CORSRules"]

    assert rules[0]["AllowedOrigins"] == ["*"]
    assert {"PUT", "POST"} <= set(rules[0]["AllowedMethods"])
    assert rules[0]["ExposeHeaders"] == [
        "ETag",
        "Location",
        "Accept-Ranges",
        "Content-Range",
        "Content-Length",
    ]


def test_the_data_bucket_aborts_forgotten_multipart_uploads(moto_aws: Settings) -> None:
    rules = aws.s3().get_bucket_lifecycle_configuration(Bucket=moto_aws.data_bucket)["Rules"]

    assert rules[0]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": ABORT_INCOMPLETE_MULTIPART_DAYS
    }


def test_the_data_bucket_keeps_object_versions(moto_aws: Settings) -> None:
    assert aws.s3().get_bucket_versioning(Bucket=moto_aws.data_bucket)["Status"] == "Enabled"


def test_new_data_objects_are_announced_to_the_ingest_queue(moto_aws: Settings) -> None:
    config = aws.s3().get_bucket_notification_configuration(Bucket=moto_aws.data_bucket)
    queue_arn = aws.sqs().get_queue_attributes(
        QueueUrl=aws.sqs().get_queue_url(QueueName=moto_aws.ingest_queue)["QueueUrl"],
        AttributeNames=["QueueArn"],
    )["Attributes"]["QueueArn"]

    [target] = config["QueueConfigurations"]
    assert target["QueueArn"] == queue_arn
    assert target["Events"] == ["s3:ObjectCreated:*"]
    assert target["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": DATA_PREFIX}]


def test_the_ingest_queue_dead_letters_after_its_receive_count(moto_aws: Settings) -> None:
    url = aws.sqs().get_queue_url(QueueName=moto_aws.ingest_queue)["QueueUrl"]
    attributes = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    dlq_url = aws.sqs().get_queue_url(QueueName=moto_aws.ingest_dlq)["QueueUrl"]
    dlq_arn = aws.sqs().get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": INGEST_MAX_RECEIVE_COUNT,
    }
    assert attributes["VisibilityTimeout"] == str(INGEST_VISIBILITY_TIMEOUT_SECONDS)


def test_provisioning_twice_changes_nothing(moto_aws: Settings) -> None:
    before = aws.dynamodb().describe_table(TableName=moto_aws.files_table)["Table"]["TableArn"]

    provision.create_tables(moto_aws)
    provision.create_queues(moto_aws)
    provision.create_data_bucket(moto_aws)

    assert aws.dynamodb().describe_table(TableName=moto_aws.files_table)["Table"]["TableArn"] == before
