"""The data bucket, the tables and the ingest queues, rendered from chalicelib.resources.

The embedded stack creates the same resources from the same definitions (local/provision.py), so
what runs locally and what runs in AWS cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib import resources
from infrastructure.stages import Stage


@dataclass(frozen=True)
class Storage:
    bucket: s3.Bucket
    tables: dict[str, dynamodb.Table]  # by the Settings field that names them
    queue: sqs.Queue
    dlq: sqs.Queue


def make_storage(scope: Construct, stage: Stage, cors_origins: list[str]) -> Storage:
    removal = cdk.RemovalPolicy.RETAIN if stage.keep_data else cdk.RemovalPolicy.DESTROY
    dlq = sqs.Queue(
        scope,
        "IngestDeadLetters",
        retention_period=cdk.Duration.seconds(resources.DLQ_RETENTION_SECONDS),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )
    queue = sqs.Queue(
        scope,
        "Ingest",
        visibility_timeout=cdk.Duration.seconds(resources.INGEST_VISIBILITY_TIMEOUT_SECONDS),
        dead_letter_queue=sqs.DeadLetterQueue(
            max_receive_count=resources.INGEST_MAX_RECEIVE_COUNT, queue=dlq
        ),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )
    # Named, so the queue's policy can name it before it exists (see _notify_ingest).
    stack = cdk.Stack.of(scope)
    bucket_name = f"{stack.stack_name.lower()}-data-{stack.account}-{stack.region}"
    bucket = _data_bucket(scope, bucket_name, cors_origins, removal, stage.rendered_expiry_days)
    _notify_ingest(scope, bucket, f"arn:{stack.partition}:s3:::{bucket_name}", queue)
    tables = {table.setting: _table(scope, table, stage, removal) for table in resources.TABLES}
    return Storage(bucket=bucket, tables=tables, queue=queue, dlq=dlq)


def _data_bucket(
    scope: Construct,
    name: str,
    cors_origins: list[str],
    removal: cdk.RemovalPolicy,
    rendered_expiry_days: int,
) -> s3.Bucket:
    [cors] = resources.data_bucket_cors(cors_origins)["CORSRules"]
    bucket = s3.Bucket(
        scope,
        "Data",
        bucket_name=name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        versioned=True,  # chalicelib.resources.REPLACED_VERSION_DAYS says why
        removal_policy=removal,
        cors=[
            s3.CorsRule(
                allowed_origins=cors["AllowedOrigins"],
                allowed_methods=[s3.HttpMethods(method) for method in cors["AllowedMethods"]],
                allowed_headers=cors.get("AllowedHeaders"),
                exposed_headers=cors.get("ExposeHeaders"),
                max_age=cors.get("MaxAgeSeconds"),
            )
        ],
    )
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.add_property_override(
        "LifecycleConfiguration", _lifecycle(resources.data_bucket_lifecycle(rendered_expiry_days))
    )
    return bucket


def _lifecycle(lifecycle: Any) -> dict[str, Any]:
    """S3's API shape of a lifecycle configuration, in CloudFormation's."""
    rules = []
    for rule in lifecycle["Rules"]:
        rendered: dict[str, Any] = {
            "Id": rule["ID"],
            "Status": rule["Status"],
            "Prefix": rule["Filter"]["Prefix"],
        }
        if "AbortIncompleteMultipartUpload" in rule:
            rendered["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            }
        if "NoncurrentVersionExpiration" in rule:
            rendered["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            }
        if rule.get("Expiration", {}).get("ExpiredObjectDeleteMarker"):
            rendered["ExpiredObjectDeleteMarker"] = True
        if "Days" in rule.get("Expiration", {}):
            rendered["ExpirationInDays"] = rule["Expiration"]["Days"]
        if "Transitions" in rule:
            rendered["Transitions"] = [
                {"TransitionInDays": t["Days"], "StorageClass": t["StorageClass"]}
                for t in rule["Transitions"]
            ]
        rules.append(rendered)
    return {"Rules": rules}


def _notify_ingest(scope: Construct, bucket: s3.Bucket, bucket_arn: str, queue: sqs.Queue) -> None:
    """New objects under the data prefix are announced to the ingest queue.

    Written on the bucket itself, not through CDK's notifications custom resource (a Lambda whose
    role may change any bucket's notifications). S3 checks the queue's policy when the bucket is
    created, so the queue's policy comes first and names the bucket by its ARN, not by a reference.
    """
    [statement] = resources.ingest_queue_policy(queue.queue_arn, bucket_arn)["Statement"]
    queue.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
    [rule] = resources.data_bucket_notifications(queue.queue_arn)["QueueConfigurations"]
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
        queue_configurations=[
            s3.CfnBucket.QueueConfigurationProperty(
                event=event,
                queue=rule["QueueArn"],
                filter=s3.CfnBucket.NotificationFilterProperty(
                    s3_key=s3.CfnBucket.S3KeyFilterProperty(
                        rules=[
                            s3.CfnBucket.FilterRuleProperty(name=item["Name"], value=item["Value"])
                            for item in rule["Filter"]["Key"]["FilterRules"]
                        ]
                    )
                ),
            )
            for event in rule["Events"]
        ]
    )
    policy = queue.node.try_find_child("Policy")  # the queue's policy, with the statement above
    assert policy is not None
    cfn.node.add_dependency(policy)


def _table(
    scope: Construct, table: resources.Table, stage: Stage, removal: cdk.RemovalPolicy
) -> dynamodb.Table:
    string = dynamodb.AttributeType.STRING
    created = dynamodb.Table(
        scope,
        table.setting.replace("_table", "").title() + "Table",
        partition_key=dynamodb.Attribute(name=table.hash_key, type=string),
        sort_key=dynamodb.Attribute(name=table.range_key, type=string),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=table.ttl_attribute,
        deletion_protection=stage.keep_data,
        removal_policy=removal,
    )
    for index in table.indexes:
        created.add_global_secondary_index(
            index_name=index.name,
            partition_key=dynamodb.Attribute(name=index.hash_key, type=string),
            sort_key=dynamodb.Attribute(name=index.range_key, type=string),
            projection_type=dynamodb.ProjectionType.ALL,
        )
    return created
