"""The HTTP middleware: authentication, errors, correlation ids and metrics for every route.

This is the one place where exceptions become HTTP error responses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib.auth.context import authenticate
from chalicelib.cors import cors_headers
from chalicelib.errors import VellumError, error_body, error_response
from chalicelib.observability import flush_metrics, logger, metrics

REQUEST_ID_HEADER = "X-Request-Id"


def handle_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = _request_id(request)
    logger.set_correlation_id(request_id)
    logger.append_keys(method=request.method, path=request.path)
    try:
        authenticate(request)
        response = get_response(request)
    except VellumError as error:
        response = error_response(error)
    except Exception:
        logger.exception("unhandled error")
        response = Response(body={"Code": "InternalServerError"}, status_code=500)
    response = _as_vellum_error(response, request_id)
    response.headers[REQUEST_ID_HEADER] = request_id
    caching = str(response.headers.get("Cache-Control", ""))
    response.headers.update(cors_headers(request.headers.get("origin"), request.path, caching))
    if response.status_code >= 500:
        metrics.add_metric(name="ServerErrors", unit="Count", value=1)
    logger.info("request served", extra={"status": response.status_code})
    logger.remove_keys(["method", "path"])
    flush_metrics()
    return response


def _request_id(request: Request) -> str:
    request_id = request.context.get("requestId")
    if request_id:
        return str(request_id)
    return str(request.lambda_context.aws_request_id if request.lambda_context else uuid.uuid4())


def _as_vellum_error(response: Response, request_id: str) -> Response:
    """Give Chalice's own errors (bad JSON body, 405, 415, unhandled 500s) our error shape."""
    body: Any = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    status = response.status_code
    if status >= 500:
        # Never reveal what failed inside; the request id finds it in the logs.
        message = f"An unexpected error occurred. Quote request id {request_id} when reporting it."
    else:
        message = str(body.get("Message", "")).removeprefix(f"{body['Code']}: ") or "The request failed."
    headers = {**response.headers, "Content-Type": "application/json"}
    return Response(body=error_body(status, message), status_code=status, headers=headers)
