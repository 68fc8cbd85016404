"""CloudFront in front of the API: IIIF answers cached at the edge, everything else passed through."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from constructs import Construct

from chalicelib.auth.cookies import ACCESS_COOKIE, SESSION_COOKIE
from infrastructure.stages import Stage

# CloudFront sends the API its own host (API Gateway routes on it), so the host viewers used
# travels in this header: Vellum builds info.json ids and links from it (VELLUM_PUBLIC_HOST_HEADER).
PUBLIC_HOST_HEADER = "x-vellum-public-host"
_COPY_HOST = f"""function handler(event) {{
  var request = event.request;
  request.headers['{PUBLIC_HOST_HEADER}'] = {{value: request.headers.host.value}};
  return request;
}}"""
YEAR = cdk.Duration.days(365)


def make_distribution(scope: Construct, stage: Stage, rest_api_id: str) -> cloudfront.Distribution:
    stack = cdk.Stack.of(scope)
    api = origins.HttpOrigin(
        f"{rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
        origin_path="/api",
        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    )
    copy_host = cloudfront.Function(
        scope,
        "PublicHost",
        code=cloudfront.FunctionCode.from_inline(_COPY_HOST),
        runtime=cloudfront.FunctionRuntime.JS_2_0,
        comment="Tell the API the host viewers asked for",
    )
    associations = [
        cloudfront.FunctionAssociation(
            function=copy_host, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
        )
    ]
    headers = cloudfront.ResponseHeadersPolicy(
        scope,
        "SecurityHeaders",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=YEAR, include_subdomains=True, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                override=False,
            ),
        ),
    )
    # IIIF answers are the same for everyone who may see them: keyed on the path and Accept
    # (info.json's JSON-LD negotiation). Who asks is in the key only because CloudFront forwards
    # nothing else to the origin: the bearer token, the console's session cookie with the
    # Sec-Fetch-Site that decides whether it counts (chalicelib.auth.cookies), or the IIIF access
    # cookie. A restricted image's answers say "private" or "no-store" and are never stored; a
    # public one's are stored once per reader at worst. Origin too: preflights and restricted
    # answers name the viewer's origin (chalicelib.cors); an image element sends none.
    iiif_cache = cloudfront.CachePolicy(
        scope,
        "IiifCache",
        comment="IIIF: path and Accept; who asks only so it reaches the API",
        header_behavior=cloudfront.CacheHeaderBehavior.allow_list(
            "Accept", "Authorization", "Sec-Fetch-Site", "Origin"
        ),
        cookie_behavior=cloudfront.CacheCookieBehavior.allow_list(SESSION_COOKIE, ACCESS_COOKIE),
        query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
        min_ttl=cdk.Duration.seconds(0),
        default_ttl=cdk.Duration.days(1),
        max_ttl=YEAR,
        enable_accept_encoding_gzip=True,
        enable_accept_encoding_brotli=True,
    )
    iiif_origin_request = cloudfront.OriginRequestPolicy(
        scope,
        "IiifOriginRequest",
        comment="IIIF: the public host and CORS preflight headers",
        header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(
            PUBLIC_HOST_HEADER, "Access-Control-Request-Method", "Access-Control-Request-Headers"
        ),
    )
    every_behavior: dict[str, Any] = {
        "origin": api,
        "viewer_protocol_policy": cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        "response_headers_policy": headers,
        "function_associations": associations,
        "compress": True,
    }
    return cloudfront.Distribution(
        scope,
        "Edge",
        comment=f"Vellum {stage.name}",
        http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        price_class=stage.price_class,
        default_behavior=cloudfront.BehaviorOptions(
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # With caching off, this policy forwards Authorization and cookies too.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            **every_behavior,
        ),
        additional_behaviors={
            "/iiif/*": cloudfront.BehaviorOptions(
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
                cache_policy=iiif_cache,
                origin_request_policy=iiif_origin_request,
                **every_behavior,
            ),
            # The preview pages' scripts and libraries: the same for everyone, versioned by path.
            "/static/*": cloudfront.BehaviorOptions(
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                **every_behavior,
            ),
        },
    )
