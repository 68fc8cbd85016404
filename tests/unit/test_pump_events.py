from __future__ import annotations

from local.pump import failed_message_ids, lambda_event


def test_received_messages_become_the_event_lambda_delivers() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795885128000"},
        "MessageAttributes": {"kind": {"StringValue": "test", "DataType": "String"}},
    }

    event = lambda_event([message], "arn:aws:sqs:us-east-1:123456789012:ingest", "us-east-1")

    assert event == {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": "{}",
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795885128000"},
                "messageAttributes": {
                    "kind": {
                        "stringValue": "test",
                        "binaryValue": None,
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": "String",
                    }
                },
                "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_a_partial_batch_response_names_the_failed_records() -> None:
    result = {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-5"}]}

    assert failed_message_ids(result) == {"m-2", "m-5"}


def test_a_handler_that_returns_nothing_failed_nothing() -> None:
    assert failed_message_ids(None) == set()
    assert failed_message_ids({"batchItemFailures": []}) == set()
