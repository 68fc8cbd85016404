"""Vellum's Lambda functions: the Chalice app packaged by ``chalice.cdk``, with one role each.

``chalice package`` writes a SAM template; what it cannot express (the settings' values, the
queue the ingest function reads, partial batch responses, /tmp size, the gateway's answer for
unknown paths) is written onto its resources here, and checked by tests/infrastructure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.errors import error_body
from chalicelib.resources import (
    DATA_PREFIX,
    DERIVATIVES_PREFIX,
    INGEST_FUNCTION_TIMEOUT_SECONDS,
    UNKNOWN_ROUTE_MESSAGE,
    UNKNOWN_ROUTE_STATUS,
)
from infrastructure.environment import packaging_stand_ins
from infrastructure.stages import Stage
from infrastructure.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
# The SAM resources chalice package names after app.py's handlers.
API = "APIHandler"
INGEST = "Ingest"
JOBS = ("Housekeeping", "MonitorIntegrity")
FUNCTIONS = (API, INGEST, *JOBS)
REST_API = "RestAPI"
INGEST_EVENT = "IngestSqsEventSource"
# API Gateway gives up on a request after 29 s: a longer function would work on for nobody.
API_TIMEOUT_SECONDS = 29
JOBS_TIMEOUT_SECONDS = 300
LAYER_ZIP = ROOT / "layers" / "dist" / "native-arm64.zip"
# The libraries preview pages load ship inside the app's package (web/build.sh puts them there).
VENDOR = ROOT / "chalicelib" / "previews" / "static" / "vendor"


@dataclass(frozen=True)
class Functions:
    app: Chalice
    names: dict[str, str]  # SAM resource name -> the deployed function's name (a reference)
    roles: dict[str, iam.Role]  # "api", "ingest", "jobs"


def make_functions(
    scope: Construct, stage: Stage, storage: Storage, environment: dict[str, str]
) -> Functions:
    roles = _roles(scope, storage)
    layer = lambda_.LayerVersion(
        scope,
        "NativeLayer",
        code=lambda_.Code.from_asset(str(LAYER_ZIP)),
        compatible_architectures=[lambda_.Architecture.ARM_64],
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
        description="Pillow, PDFium, libheif, FFmpeg: built from layers/ (make layer ARCH=arm64)",
    )
    # chalice.cdk passes this as top-level configuration, where per-function settings are not read:
    # each function's role, memory, timeout and concurrency are written onto it below.
    config = {
        "api_gateway_stage": "api",
        # CloudFront is in front already: an edge-optimised API would put a second one behind it.
        "api_gateway_endpoint_type": "REGIONAL",
        "lambda_architecture": "arm64",
        "manage_iam_role": False,
        "iam_role_arn": roles["api"].role_arn,
        "autogen_policy": False,
        "xray": True,
        "layers": [layer.layer_version_arn],
        "tags": {"app": "vellum", "stage": stage.name},
    }
    sizes = {
        API: (roles["api"], stage.api_memory_mb, API_TIMEOUT_SECONDS),
        INGEST: (roles["ingest"], stage.ingest_memory_mb, INGEST_FUNCTION_TIMEOUT_SECONDS),
        **{job: (roles["jobs"], stage.jobs_memory_mb, JOBS_TIMEOUT_SECONDS) for job in JOBS},
    }
    with packaging_stand_ins(stage.name):
        app = Chalice(scope, "App", source_dir=str(ROOT), stage_config=config)
    stack = cdk.Stack.of(scope)
    for function in FUNCTIONS:
        resource = app.get_resource(function)
        role, memory, timeout = sizes[function]
        resource.add_property_override("Role", role.role_arn)
        resource.add_property_override("MemorySize", memory)
        resource.add_property_override("Timeout", timeout)
        for name, value in environment.items():
            resource.add_property_override(f"Environment.Variables.{name}", value)
        # Created before the function and named for it, with its retention. (Chalice's own
        # log_retention_in_days names the API handler's log group after a resource that does not exist.)
        group = logs.LogGroup(
            scope,
            f"{function}Logs",
            log_group_name=f"/aws/lambda/{stack.stack_name}-{function}",
            retention=stage.log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN if stage.keep_data else cdk.RemovalPolicy.DESTROY,
        )
        resource.add_property_override("LoggingConfig.LogGroup", group.log_group_name)
    ingest = app.get_resource(INGEST)
    # app.py names the queue by the setting, which chalice package read from a stand-in.
    ingest.add_property_override(f"Events.{INGEST_EVENT}.Properties.Queue", storage.queue.queue_arn)
    # One failed record in a batch is retried alone (chalicelib.ingest.handler answers which).
    ingest.add_property_override(
        f"Events.{INGEST_EVENT}.Properties.FunctionResponseTypes", ["ReportBatchItemFailures"]
    )
    ingest.add_property_override("EphemeralStorage.Size", stage.ingest_ephemeral_mb)
    ingest.add_property_override("ReservedConcurrentExecutions", stage.ingest_concurrency)
    # A path no route matches: Vellum's JSON 404, as the local gateway answers (not a 403).
    app.get_resource(REST_API).add_property_override(
        "DefinitionBody.x-amazon-apigateway-gateway-responses",
        {
            "MISSING_AUTHENTICATION_TOKEN": {
                "statusCode": UNKNOWN_ROUTE_STATUS,
                "responseTemplates": {
                    "application/json": json.dumps(error_body(UNKNOWN_ROUTE_STATUS, UNKNOWN_ROUTE_MESSAGE))
                },
            }
        },
    )
    names = {function: app.get_resource(function).ref for function in FUNCTIONS}
    return Functions(app=app, names=names, roles=roles)


def _roles(scope: Construct, storage: Storage) -> dict[str, iam.Role]:
    """One role per kind of function, each allowed what its code calls and nothing else."""
    stack = cdk.Stack.of(scope)
    bucket = storage.bucket
    files, records = storage.tables["files_table"], storage.tables["records_table"]
    sessions = storage.tables["sessions_table"]

    def objects(prefix: str = "") -> str:
        return bucket.arn_for_objects(f"{prefix}*")

    logs = iam.PolicyStatement(
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[
            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws/lambda/{stack.stack_name}-*"
        ],
    )
    # X-Ray takes no resource: AWS requires "*" for these two actions.
    tracing = iam.PolicyStatement(
        actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
    )
    list_bucket = iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    queues = iam.PolicyStatement(
        actions=["sqs:GetQueueUrl", "sqs:SendMessage"],
        resources=[storage.queue.queue_arn, storage.dlq.queue_arn],
    )
    describe_tables = iam.PolicyStatement(
        actions=["dynamodb:DescribeTable"],
        resources=[files.table_arn, records.table_arn, sessions.table_arn],
    )
    read_write_objects = iam.PolicyStatement(
        actions=[
            "s3:GetObject",
            "s3:GetObjectAttributes",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ],
        resources=[objects()],
    )
    statements = {
        # Uploads (presigned URLs are signed with this role), downloads, IIIF, records, health.
        "api": [read_write_objects, list_bucket, queues, describe_tables],
        # Reads what landed, writes derivatives; removes a form upload that overran its quota, and
        # the versions posted over a recorded one.
        "ingest": [
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    "s3:GetObjectAttributes",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
                resources=[objects(DATA_PREFIX)],
            ),
            iam.PolicyStatement(actions=["s3:ListBucketVersions"], resources=[bucket.bucket_arn]),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"], resources=[objects(DERIVATIVES_PREFIX)]
            ),
            list_bucket,
            queues,
        ],
        # Expiring uploads, purging deleted buckets, integrity checks.
        "jobs": [read_write_objects, list_bucket, queues],
    }
    roles = {}
    for kind, granted in statements.items():
        role = iam.Role(
            scope,
            f"{kind.title()}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Vellum's {kind} functions",
        )
        for statement in (*granted, logs, tracing):
            role.add_to_policy(statement)
        files.grant_read_write_data(role)
        roles[kind] = role
    records.grant_read_write_data(roles["api"])
    sessions.grant_read_write_data(roles["api"])
    storage.queue.grant_consume_messages(roles["ingest"])
    return roles
