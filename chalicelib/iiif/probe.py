"""What the IIIF probe service answers: the status the caller would get for a file version."""

from __future__ import annotations

from chalicelib.auth.policy import Action, can
from chalicelib.auth.principal import Principal
from chalicelib.files.buckets import load_bucket
from chalicelib.files.objects import find_version
from chalicelib.iiif.identifiers import parse_identifier
from chalicelib.records.service import public_facts


def probe_status(principal: Principal, identifier: str) -> int | None:
    """200 if ``principal`` may read the version (whose image or page ``identifier`` names); 401 or
    403 if not, for a version anyone may know of (a public record's); None for one that is missing
    or hidden, which the probe does not tell apart."""
    named = parse_identifier(identifier)
    version = find_version(named.version_id) if named is not None and not named.degraded else None
    bucket = load_bucket(version.bucket_id) if version is not None else None
    if version is None or bucket is None:
        return None
    if can(principal, Action.OBJECT_READ if version.is_head else Action.OBJECT_READ_VERSION, bucket):
        return 200
    if not (bucket.record_id and public_facts(bucket.record_id).listed):
        return None
    return 401 if principal.anonymous else 403
