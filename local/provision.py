"""Create Vellum's AWS resources on the embedded AWS, from the same definitions as the IaC.

Idempotent: running it against resources that exist changes nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib import aws
from chalicelib.resources import (
    TABLES,
    data_bucket_cors,
    data_bucket_lifecycle,
    data_bucket_notifications,
    dlq_attributes,
    ingest_queue_attributes,
)
from chalicelib.settings import Settings


def create_tables(settings: Settings) -> None:
    client = aws.dynamodb()
    existing = set(client.list_tables()["TableNames"])
    for table in TABLES:
        name = getattr(settings, table.setting)
        if name not in existing:
            client.create_table(**table.create_table_params(name))
        if not _ttl_enabled(name):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )


def _ttl_enabled(table_name: str) -> bool:
    status = aws.dynamodb().describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    return status.get("TimeToLiveStatus") == "ENABLED"


def create_queues(settings: Settings) -> str:
    """Create the ingest queue and its dead-letter queue; return the ingest queue's ARN."""
    client = aws.sqs()
    dlq_url = client.create_queue(QueueName=settings.ingest_dlq, Attributes=dlq_attributes())["QueueUrl"]
    dlq_arn = _queue_arn(dlq_url)
    queue_url = client.create_queue(QueueName=settings.ingest_queue)["QueueUrl"]
    queue_arn = _queue_arn(queue_url)
    client.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes=ingest_queue_attributes(dlq_arn, queue_arn, f"arn:aws:s3:::{settings.data_bucket}"),
    )
    return queue_arn


def _queue_arn(url: str) -> str:
    attributes = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return attributes["QueueArn"]


def create_data_bucket(settings: Settings) -> None:
    client = aws.s3()
    existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    if settings.data_bucket not in existing:
        params: dict[str, Any] = {"Bucket": settings.data_bucket}
        if settings.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
        client.create_bucket(**params)
    client.put_bucket_versioning(Bucket=settings.data_bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_cors(
        Bucket=settings.data_bucket, CORSConfiguration=data_bucket_cors(settings.cors_origins)
    )
    client.put_bucket_lifecycle_configuration(
        Bucket=settings.data_bucket,
        LifecycleConfiguration=data_bucket_lifecycle(settings.iiif_rendered_expiry_days),
    )


def connect_notifications(settings: Settings, ingest_queue_arn: str) -> None:
    aws.s3().put_bucket_notification_configuration(
        Bucket=settings.data_bucket,
        NotificationConfiguration=data_bucket_notifications(ingest_queue_arn),
    )
