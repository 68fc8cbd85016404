"""One stack per stage: all of Vellum, from its tables to the CDN in front of it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from infrastructure.edge import PUBLIC_HOST_HEADER, make_distribution
from infrastructure.environment import variable
from infrastructure.functions import INGEST, REST_API, make_functions
from infrastructure.monitoring import make_monitoring
from infrastructure.stages import Stage
from infrastructure.storage import make_storage


class VellumStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, stage: Stage, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        # What the operator supplies at deploy time (docs/deploy.md): the identity provider, and who
        # may upload from a browser.
        jwks_url = cdk.CfnParameter(self, "JwksUrl", description="The identity provider's JWKS URL (https)")
        issuer = cdk.CfnParameter(self, "TokenIssuer", description="The iss of accepted tokens")
        audience = cdk.CfnParameter(
            self, "TokenAudience", description="The aud of accepted tokens (Cognito: the app client id)"
        )
        roles_claim = cdk.CfnParameter(
            self,
            "RolesClaim",
            default="roles",
            description="The claim holding roles (Cognito: cognito:groups)",
        )
        admin_role = cdk.CfnParameter(
            self, "AdminRole", default="admin", description="The role of administrators"
        )
        cors_origins = cdk.CfnParameter(
            self,
            "CorsOrigins",
            type="CommaDelimitedList",
            description="Origins of the web pages that upload straight to S3, e.g. https://app.example.org",
        )
        # The console's sign-in (OpenID Connect with PKCE; Cognito: the hosted UI's endpoints and an
        # app client without a secret). All three or none: blank leaves the console without sign-in.
        console_sign_in = {
            setting: cdk.CfnParameter(self, name, default="", description=description)
            for setting, name, description in (
                (
                    "console_authorize_url",
                    "ConsoleAuthorizeUrl",
                    "The provider's authorization endpoint (https)",
                ),
                ("console_token_url", "ConsoleTokenUrl", "The provider's token endpoint (https)"),
                ("console_client_id", "ConsoleClientId", "The console's client id (a public client)"),
            )
        }
        # The IIIF Authorization Flow (docs/iiif-auth.md): which viewers' origins its token
        # services answer, and how its access service behaves.
        iiif_auth_origins = cdk.CfnParameter(
            self,
            "IiifAuthOrigins",
            type="CommaDelimitedList",
            default="*",
            description="Origins of the IIIF viewers that may show restricted images (*: any)",
        )
        iiif_access_profile = cdk.CfnParameter(
            self,
            "IiifAccessProfile",
            default="active",
            allowed_values=["active", "kiosk", "external"],
            description="The IIIF access service's profile: active (a sign-in window), kiosk or external",
        )
        alarm_email = cdk.CfnParameter(
            self, "AlarmEmail", default="", description="An address the alarms are mailed to (empty: none)"
        )

        storage = make_storage(self, stage, cors_origins.value_as_list)
        environment = {
            variable("stage"): stage.name,
            variable("iiif_rendered_expiry_days"): str(stage.rendered_expiry_days),
            variable("data_bucket"): storage.bucket.bucket_name,
            **{variable(setting): table.table_name for setting, table in storage.tables.items()},
            variable("ingest_queue"): storage.queue.queue_name,
            variable("ingest_dlq"): storage.dlq.queue_name,
            variable("jwks_url"): jwks_url.value_as_string,
            variable("token_issuer"): issuer.value_as_string,
            variable("token_audience"): audience.value_as_string,
            variable("roles_claim"): roles_claim.value_as_string,
            variable("admin_role"): admin_role.value_as_string,
            # The settings read a JSON list.
            variable("cors_origins"): json_list(cors_origins),
            variable("iiif_auth_origins"): json_list(iiif_auth_origins),
            variable("iiif_access_profile"): iiif_access_profile.value_as_string,
            variable("public_host_header"): PUBLIC_HOST_HEADER,
            **{
                variable(setting): parameter.value_as_string for setting, parameter in console_sign_in.items()
            },
        }
        functions = make_functions(self, stage, storage, environment)
        rest_api = functions.app.get_resource(REST_API)
        distribution = make_distribution(self, stage, rest_api.ref)
        # Ingest invalidates what the CDN holds of images no longer public (chalicelib/iiif/cdn.py).
        # The API cannot be told the distribution: the distribution is built on the API.
        functions.app.get_resource(INGEST).add_property_override(
            f"Environment.Variables.{variable('cdn_distribution_id')}", distribution.distribution_id
        )
        distribution.grant_create_invalidation(functions.roles["ingest"])
        api_name = f"{self.stack_name}-api"  # named, so its alarm can name it
        rest_api.add_property_override("Name", api_name)
        topic = make_monitoring(self, stage, storage, functions.names, api_name=api_name)
        email = cdk.CfnCondition(
            self,
            "HasAlarmEmail",
            expression=cdk.Fn.condition_not(cdk.Fn.condition_equals(alarm_email.value_as_string, "")),
        )
        subscription = sns.CfnSubscription(
            self,
            "AlarmMail",
            topic_arn=topic.topic_arn,
            protocol="email",
            endpoint=alarm_email.value_as_string,
        )
        subscription.cfn_options.condition = email

        outputs = {
            "ApiUrl": f"https://{rest_api.ref}.execute-api.{self.region}.{self.url_suffix}/api/",
            "PublicUrl": f"https://{distribution.distribution_domain_name}",
            "DataBucketName": storage.bucket.bucket_name,
            "FilesTableName": storage.tables["files_table"].table_name,
            "RecordsTableName": storage.tables["records_table"].table_name,
            "SessionsTableName": storage.tables["sessions_table"].table_name,
            "IngestQueueUrl": storage.queue.queue_url,
            "IngestDeadLetterQueueUrl": storage.dlq.queue_url,
            "AlarmTopicArn": topic.topic_arn,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)


def json_list(parameter: cdk.CfnParameter) -> str:
    """A list parameter as the JSON list the settings read."""
    return cdk.Fn.join("", ['["', cdk.Fn.join('","', parameter.value_as_list), '"]'])
