"""Alarms on what breaks users first, one SNS topic for them, and a small dashboard."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infrastructure.stages import Stage
from infrastructure.storage import Storage

FIVE_MINUTES = cdk.Duration.minutes(5)
# Ingest should start on a new file within seconds; a quarter of an hour means it is stuck or starved.
INGEST_AGE_ALARM_SECONDS = 900
# More than 1% of API requests answered 5xx, over 5 minutes.
API_5XX_RATE = 0.01


def make_monitoring(
    scope: Construct, stage: Stage, storage: Storage, functions: dict[str, str], api_name: str
) -> sns.Topic:
    topic = sns.Topic(scope, "Alarms", display_name=f"Vellum {stage.name} alarms")
    notify = actions.SnsAction(topic)

    def alarm(name: str, metric: cloudwatch.Metric, threshold: float, description: str) -> cloudwatch.Alarm:
        created = metric.create_alarm(
            scope,
            f"{name}Alarm",
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        created.add_alarm_action(notify)
        return created

    api_5xx = cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name="5XXError",
        dimensions_map={"ApiName": api_name, "Stage": "api"},
        statistic="Average",
        period=FIVE_MINUTES,
    )
    alarm("Api5xxRate", api_5xx, API_5XX_RATE, "More than 1% of API requests failed with a 5xx")
    lambda_metrics = []
    for function, name in functions.items():
        for metric_name in ("Errors", "Throttles"):
            metric = cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=metric_name,
                dimensions_map={"FunctionName": name},
                statistic="Sum",
                period=FIVE_MINUTES,
            )
            lambda_metrics.append(metric)
            alarm(
                f"{function}{metric_name}",
                metric,
                0,
                f"The {function} function reports {metric_name.lower()}",
            )
    dead_letters = storage.dlq.metric_approximate_number_of_messages_visible(
        period=FIVE_MINUTES, statistic="Maximum"
    )
    alarm("IngestDeadLetters", dead_letters, 0, "Ingest gave up on a message: see the file's ingest failure")
    oldest = storage.queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic="Maximum")
    alarm("IngestBacklog", oldest, INGEST_AGE_ALARM_SECONDS, "Files wait more than 15 minutes for ingest")

    cloudwatch.Dashboard(
        scope,
        "Dashboard",
        widgets=[
            [
                cloudwatch.GraphWidget(title="API 5xx rate", left=[api_5xx]),
                cloudwatch.GraphWidget(title="Function errors and throttles", left=lambda_metrics),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Ingest: oldest message (s) and dead letters", left=[oldest], right=[dead_letters]
                )
            ],
        ],
    )
    return topic
