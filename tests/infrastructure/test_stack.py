"""What the CDK app synthesises, checked offline: every property docs/deploy.md promises."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from chalicelib import resources
from chalicelib.settings import ENV_PREFIX, Settings
from infrastructure.functions import API, FUNCTIONS, INGEST, INGEST_EVENT, REST_API
from infrastructure.stages import STAGES
from tests.infrastructure.conftest import STACKS, template_of


def resources_of(template: Template, kind: str) -> dict[str, Any]:
    return template.find_resources(kind)  # type: ignore[no-any-return]


def function(template: Template, name: str) -> dict[str, Any]:
    return template.to_json()["Resources"][name]["Properties"]  # type: ignore[no-any-return]


def test_the_data_bucket_is_private_encrypted_tls_only_and_open_to_browser_uploads(dev: Template) -> None:
    dev.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "CorsConfiguration": {
                "CorsRules": [
                    Match.object_like(
                        {
                            "AllowedOrigins": {"Ref": "CorsOrigins"},
                            "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
                            "ExposedHeaders": [
                                "ETag",
                                "Location",
                                "Accept-Ranges",
                                "Content-Range",
                                "Content-Length",
                            ],
                        }
                    )
                ]
            },
        },
    )
    dev.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def test_the_data_bucket_aborts_stale_multipart_uploads_and_tiers_derivatives(dev: Template) -> None:
    [bucket] = resources_of(dev, "AWS::S3::Bucket").values()
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}

    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": resources.ABORT_INCOMPLETE_MULTIPART_DAYS
    }
    assert rules["tier-derivatives"]["Prefix"] == resources.DERIVATIVES_PREFIX
    assert rules["tier-derivatives"]["Transitions"][0]["StorageClass"] == "INTELLIGENT_TIERING"


def test_the_data_bucket_keeps_versions_a_day_so_an_overwrite_can_be_undone(dev: Template) -> None:
    [bucket] = resources_of(dev, "AWS::S3::Bucket").values()
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}

    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert rules["expire-replaced-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": resources.REPLACED_VERSION_DAYS
    }
    assert rules["expire-replaced-versions"]["ExpiredObjectDeleteMarker"] is True


def test_answers_rendered_on_demand_expire_as_the_functions_are_told(dev: Template) -> None:
    [bucket] = resources_of(dev, "AWS::S3::Bucket").values()
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    days = STAGES["dev"].rendered_expiry_days

    assert rules["expire-rendered-answers"]["Prefix"] == resources.RENDERED_PREFIX
    assert rules["expire-rendered-answers"]["ExpirationInDays"] == days
    for function in resources_of(dev, "AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["VELLUM_IIIF_RENDERED_EXPIRY_DAYS"] == str(days)


def test_new_objects_under_the_data_prefix_reach_the_ingest_queue_which_only_the_bucket_may_feed(
    dev: Template,
) -> None:
    [bucket] = resources_of(dev, "AWS::S3::Bucket").values()
    [queue_id] = [
        name
        for name, queue in resources_of(dev, "AWS::SQS::Queue").items()
        if "RedrivePolicy" in queue["Properties"]
    ]
    [rule] = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]

    assert rule["Event"] == "s3:ObjectCreated:*"
    assert rule["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": resources.DATA_PREFIX}]}}
    assert rule["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # One policy per queue: a second one would replace the first.
    [(policy_id, policy)] = [
        (name, policy)
        for name, policy in resources_of(dev, "AWS::SQS::QueuePolicy").items()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
    ]
    [statement] = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "DataBucketNotifications"
    ]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]
    # S3 checks the queue's policy when it sets the notification: the policy must exist first.
    assert policy_id in bucket["DependsOn"]


def test_the_ingest_queue_outlasts_its_consumer_and_dead_letters_after_the_tries(dev: Template) -> None:
    [queue] = [q for q in resources_of(dev, "AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]]
    properties = queue["Properties"]

    assert properties["VisibilityTimeout"] == resources.INGEST_VISIBILITY_TIMEOUT_SECONDS
    assert properties["VisibilityTimeout"] > function(dev, INGEST)["Timeout"]
    assert properties["RedrivePolicy"]["maxReceiveCount"] == resources.INGEST_MAX_RECEIVE_COUNT


def test_the_ingest_function_reports_partial_batch_failures_from_the_ingest_queue(dev: Template) -> None:
    event = function(dev, INGEST)["Events"][INGEST_EVENT]

    assert event["Type"] == "SQS"
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["Queue"]["Fn::GetAtt"][1] == "Arn"  # the stack's queue, not a stand-in name


@pytest.mark.parametrize(("stage", "protected"), [("dev", False), ("prod", True)])
def test_tables_have_their_indexes_on_demand_billing_recovery_ttl_and_protection_in_prod(
    request: pytest.FixtureRequest, stage: str, protected: bool
) -> None:
    template: Template = request.getfixturevalue(stage)
    tables = resources_of(template, "AWS::DynamoDB::Table")

    assert len(tables) == len(resources.TABLES)
    indexes = sorted(
        sorted(index["IndexName"] for index in table["Properties"].get("GlobalSecondaryIndexes", []))
        for table in tables.values()
    )
    assert indexes == sorted(sorted(index.name for index in table.indexes) for table in resources.TABLES)
    assert indexes == [[], ["gsi1", "gsi2"], ["gsi1", "gsi2"]]
    for table in tables.values():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        assert properties.get("DeletionProtectionEnabled", False) is protected
        assert table["DeletionPolicy"] == ("Retain" if protected else "Delete")


def test_functions_run_on_arm64_with_the_pillow_layer_tracing_and_their_own_sizes(dev: Template) -> None:
    for name in FUNCTIONS:
        properties = function(dev, name)
        assert properties["Architectures"] == ["arm64"]
        assert properties["Runtime"] == "python3.11"
        assert properties["Tracing"] == "Active"
        assert properties["Layers"] == [{"Ref": next(iter(resources_of(dev, "AWS::Lambda::LayerVersion")))}]
        assert properties["LoggingConfig"]["LogGroup"]["Ref"] in resources_of(dev, "AWS::Logs::LogGroup")
    assert function(dev, API)["Timeout"] == 29  # API Gateway's own limit
    assert function(dev, INGEST)["MemorySize"] >= 3008  # a 300 MP source decodes in 1.3 GB
    assert function(dev, INGEST)["EphemeralStorage"] == {"Size": 2048}
    assert function(dev, INGEST)["ReservedConcurrentExecutions"] > 0
    assert len({json.dumps(function(dev, name)["Role"]) for name in FUNCTIONS}) == 3  # api, ingest, jobs


def test_every_log_group_keeps_logs_for_a_bounded_time(dev: Template, prod: Template) -> None:
    for template, days in ((dev, 14), (prod, 90)):
        groups = resources_of(template, "AWS::Logs::LogGroup").values()
        assert len(groups) == len(FUNCTIONS)
        assert {group["Properties"]["RetentionInDays"] for group in groups} == {days}


def required_variables() -> set[str]:
    """Every variable chalicelib.settings needs outside the local stage (AWS_REGION is Lambda's own)."""
    required = {
        f"{ENV_PREFIX}{name.upper()}"
        for name, field in Settings.model_fields.items()
        if field.is_required() and field.validation_alias is None
    }
    return required | {
        f"{ENV_PREFIX}{name.upper()}" for name in ("jwks_url", "token_issuer", "token_audience")
    }


@pytest.mark.parametrize("stage", list(STACKS))
def test_every_function_gets_every_setting_the_code_requires(
    request: pytest.FixtureRequest, stage: str
) -> None:
    template: Template = request.getfixturevalue(stage)
    assert {"VELLUM_STAGE", "VELLUM_DATA_BUCKET", "VELLUM_JWKS_URL"} <= required_variables()

    for name in FUNCTIONS:
        variables = function(template, name)["Environment"]["Variables"]
        assert required_variables() <= set(variables), name
        assert variables[f"{ENV_PREFIX}STAGE"] == stage
        assert variables[f"{ENV_PREFIX}PUBLIC_HOST_HEADER"] == "x-vellum-public-host"
        assert all("stand-in" not in json.dumps(value) for value in variables.values())


def statements(template: Template) -> list[dict[str, Any]]:
    found = []
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_no_role_may_do_everything_or_touch_everything(dev: Template) -> None:
    for statement in statements(dev):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        if statement["Resource"] == "*":  # X-Ray's two actions take no resource: AWS requires "*"
            assert sorted(actions) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_the_ingest_role_writes_only_derivatives_and_reads_what_landed(dev: Template) -> None:
    policy = next(
        p for name, p in resources_of(dev, "AWS::IAM::Policy").items() if name.startswith("IngestRole")
    )
    puts = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "s3:PutObject" in s["Action"]]

    assert [json.dumps(s["Resource"]).endswith(f'"/{resources.DERIVATIVES_PREFIX}*"]]}}') for s in puts] == [
        True
    ]


def test_only_ingest_knows_the_distribution_and_may_invalidate_it(dev: Template) -> None:
    distribution = next(iter(resources_of(dev, "AWS::CloudFront::Distribution")))
    variable = f"{ENV_PREFIX}CDN_DISTRIBUTION_ID"

    assert function(dev, INGEST)["Environment"]["Variables"][variable] == {"Ref": distribution}
    assert all(
        variable not in function(dev, name)["Environment"]["Variables"]
        for name in FUNCTIONS
        if name != INGEST
    )
    granted = {
        name: [
            s
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if "cloudfront:" in json.dumps(s["Action"])
        ]
        for name, p in resources_of(dev, "AWS::IAM::Policy").items()
    }
    (ingest,) = [name for name, found in granted.items() if found]
    assert ingest.startswith("IngestRole")
    (statement,) = granted[ingest]
    assert statement["Action"] == "cloudfront:CreateInvalidation"
    assert distribution in json.dumps(statement["Resource"])


def test_unknown_paths_answer_vellums_json_404_and_every_body_may_be_binary(dev: Template) -> None:
    body = function(dev, REST_API)["DefinitionBody"]

    assert body["x-amazon-apigateway-binary-media-types"] == ["*/*"]
    answer = body["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert answer["statusCode"] == resources.UNKNOWN_ROUTE_STATUS
    assert json.loads(answer["responseTemplates"]["application/json"]) == {
        "status": 404,
        "message": resources.UNKNOWN_ROUTE_MESSAGE,
    }
    assert function(dev, REST_API)["EndpointConfiguration"] == "REGIONAL"


def distribution(template: Template) -> dict[str, Any]:
    [found] = resources_of(template, "AWS::CloudFront::Distribution").values()
    return found["Properties"]["DistributionConfig"]  # type: ignore[no-any-return]


CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed policies
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_cloudfront_caches_iiif_by_path_and_accept_and_passes_everything_else_through(dev: Template) -> None:
    config = distribution(dev)
    behaviors = {behavior["PathPattern"]: behavior for behavior in config["CacheBehaviors"]}
    iiif, static = behaviors["/iiif/*"], behaviors["/static/*"]
    default = config["DefaultCacheBehavior"]

    assert static["CachePolicyId"] == CACHING_OPTIMIZED  # the preview pages' scripts, versioned by path
    assert (default["CachePolicyId"], default["OriginRequestPolicyId"]) == (
        CACHING_DISABLED,
        ALL_VIEWER_EXCEPT_HOST_HEADER,
    )
    assert config["HttpVersion"] == "http2and3"
    assert iiif["Compress"] and default["Compress"]
    [policy] = resources_of(dev, "AWS::CloudFront::CachePolicy").values()
    key = policy["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"]["Headers"] == ["Accept", "Authorization", "Sec-Fetch-Site", "Origin"]
    assert key["CookiesConfig"] == {
        "CookieBehavior": "whitelist",
        "Cookies": ["vellum_session", "vellum_access"],
    }
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert key["EnableAcceptEncodingGzip"] and key["EnableAcceptEncodingBrotli"]
    assert policy["Properties"]["CachePolicyConfig"]["MaxTTL"] == 365 * 86400
    [origin] = config["Origins"]
    assert origin["OriginPath"] == "/api"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_cloudfront_tells_the_api_its_public_host_and_answers_with_nosniff(dev: Template) -> None:
    [code] = [
        f["Properties"]["FunctionCode"] for f in resources_of(dev, "AWS::CloudFront::Function").values()
    ]
    [headers] = resources_of(dev, "AWS::CloudFront::ResponseHeadersPolicy").values()

    assert "x-vellum-public-host" in code and "request.headers.host.value" in code
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["ContentTypeOptions"] == {"Override": True}
    for behavior in [distribution(dev)["DefaultCacheBehavior"], *distribution(dev)["CacheBehaviors"]]:
        assert behavior["FunctionAssociations"][0]["EventType"] == "viewer-request"
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"


def test_alarms_cover_api_5xx_function_errors_and_throttles_dead_letters_and_ingest_age(
    dev: Template,
) -> None:
    alarms = resources_of(dev, "AWS::CloudWatch::Alarm").values()
    watched = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms}
    [topic] = resources_of(dev, "AWS::SNS::Topic")

    assert ("AWS/ApiGateway", "5XXError") in watched
    assert {("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles")} <= watched
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in watched
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage") in watched
    assert len([a for a in alarms if a["Properties"]["Namespace"] == "AWS/Lambda"]) == 2 * len(FUNCTIONS)
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic}] for a in alarms)
    assert len(resources_of(dev, "AWS::CloudWatch::Dashboard")) == 1


def test_the_api_5xx_alarm_watches_the_api_the_stack_deploys(dev: Template) -> None:
    [alarm] = [
        a
        for a in resources_of(dev, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "5XXError"
    ]
    dimensions = {d["Name"]: d["Value"] for d in alarm["Properties"]["Dimensions"]}

    assert dimensions == {"ApiName": function(dev, REST_API)["Name"], "Stage": "api"}


def test_the_outputs_name_what_operators_need(dev: Template) -> None:
    outputs = set(dev.to_json()["Outputs"])

    assert {
        "ApiUrl",
        "PublicUrl",
        "DataBucketName",
        "FilesTableName",
        "RecordsTableName",
        "SessionsTableName",
        "IngestQueueUrl",
        "AlarmTopicArn",
    } <= outputs


def test_the_consoles_sign_in_is_three_parameters_left_blank_unless_given(dev: Template) -> None:
    parameters = dev.to_json()["Parameters"]
    settings = {
        "ConsoleAuthorizeUrl": "AUTHORIZE_URL",
        "ConsoleTokenUrl": "TOKEN_URL",
        "ConsoleClientId": "CLIENT_ID",
    }

    variables = function(dev, API)["Environment"]["Variables"]
    for name, setting in settings.items():
        assert parameters[name]["Default"] == ""  # blank is none: the console says sign-in is not set up
        assert variables[f"{ENV_PREFIX}CONSOLE_{setting}"] == {"Ref": name}


def test_the_iiif_authorization_flow_answers_any_viewer_unless_told_otherwise(dev: Template) -> None:
    parameters = dev.to_json()["Parameters"]
    variables = function(dev, API)["Environment"]["Variables"]

    assert parameters["IiifAuthOrigins"]["Default"] == "*"
    assert parameters["IiifAccessProfile"]["AllowedValues"] == ["active", "kiosk", "external"]
    assert variables[f"{ENV_PREFIX}IIIF_ACCESS_PROFILE"] == {"Ref": "IiifAccessProfile"}
    joined = json.dumps(variables[f"{ENV_PREFIX}IIIF_AUTH_ORIGINS"])
    assert "IiifAuthOrigins" in joined and '[\\"' in joined


def test_cfn_lint_finds_no_error_in_either_stack(assembly: Path) -> None:
    templates = [str(assembly / f"{stack}.template.json") for stack in STACKS.values()]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        capture_output=True,
        text=True,
        timeout=300,
    )

    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert errors == [], result.stdout
    assert result.returncode in (0, 4, 8, 12), result.stdout + result.stderr  # 2 would mean errors


def test_the_assembly_carries_both_stacks_with_their_code_and_layer(assembly: Path) -> None:
    for stage, stack in STACKS.items():
        template = template_of(assembly, stage)
        assert template["Transform"] == "AWS::Serverless-2016-10-31"
        assets = json.loads((assembly / f"{stack}.assets.json").read_text())["files"]
        zips = [a["source"]["path"] for a in assets.values() if a["source"]["path"].endswith(".zip")]
        assert len(zips) == 2  # the app's deployment package and the Pillow layer
        for path in zips:
            assert (assembly / path).stat().st_size > 1_000_000
            with zipfile.ZipFile(assembly / path) as archive:
                binaries = [name for name in archive.namelist() if name.endswith(".so")]
            # Built for the functions' arm64, whatever this machine is: nothing compiled for x86_64.
            assert binaries and not [name for name in binaries if "x86_64" in name]


def test_a_function_s_code_and_layer_fit_lambda_s_250_mb_unzipped(assembly: Path) -> None:
    # Lambda refuses a function whose package and layers hold more than 250 MB unzipped; FFmpeg
    # (PyAV) is the largest part of the layer.
    assets = json.loads((assembly / f"{STACKS['dev']}.assets.json").read_text())["files"]
    zips = [assembly / a["source"]["path"] for a in assets.values() if a["source"]["path"].endswith(".zip")]
    unzipped = 0
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            unzipped += sum(entry.file_size for entry in archive.infolist())
    print(f"code and layer unzipped: {unzipped / 1e6:.1f} MB")
    assert unzipped < 250 * 1024**2
