"""Which ``model_id`` values a stack can run: the inference-profile ids its IAM grant covers.

ABCA grants the runtime, per bare foundation-model id, the foundation model and one cross-Region inference
profile ``<geo>.<bare id>``; Bedrock invokes Claude 4.x only through such a profile, so a bare id never works
and a profile of another geography is granted nothing. Where the grant comes from, in order:

1. ``--allowed-models`` (an explicit override): bare ids, combined with the stack's geography; an entry that
   carries a geography prefix is taken as the exact id.
2. The stack's ``BedrockModelIds`` output (comma-separated bare ids) with its ``BedrockGeoRegion`` output.
3. A stack without ``BedrockModelIds``: ABCA's default list (``DEFAULT_BEDROCK_MODEL_IDS`` at 2cee8800) with
   the ``BedrockGeoRegion`` output, or ``us`` (the only geography a stack granted before that output existed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

GEOS = ("global", "us-gov", "us", "eu", "apac", "jp", "au")
"""Geographies of Bedrock cross-Region inference profiles (the CDK's CrossRegionInferenceProfileRegion)."""
LEGACY_GEO = "us"
DEFAULT_MODELS = (
    "anthropic.claude-sonnet-4-6",
    "anthropic.claude-opus-4-20250514-v1:0",
    "anthropic.claude-opus-4-8",
    "anthropic.claude-opus-5",
    "anthropic.claude-haiku-4-5-20251001-v1:0",
)
"""The bare model ids ABCA grants by default (``DEFAULT_BEDROCK_MODEL_IDS`` at 2cee8800)."""
FORM = "<geography>.<model id> that the stack grants, e.g. us.anthropic.claude-opus-4-8"


@dataclass(frozen=True)
class ModelGrant:
    """The exact model ids accepted, and the rule that produced them (quoted in every refusal)."""

    ids: tuple[str, ...]
    rule: str
    geo: str


def geo_of(model: str) -> str | None:
    """The geography prefix of ``model`` (``us`` of ``us.anthropic.x``), or ``None`` for a bare id."""
    return next((geo for geo in GEOS if model.startswith(geo + ".")), None)


def shape(value: Any) -> str:
    """A ``model_id`` of the right form, ``<geo>.<bare id>`` (whether it is granted is checked later)."""
    if not isinstance(value, str) or not value or value != value.strip():
        msg = "is not an inference-profile id"
        raise ValueError(msg)
    geo = geo_of(value)
    if geo is None:
        msg = ("is not an inference-profile id: Bedrock does not invoke a bare model id on demand (prefix it "
               "with the stack's geography, e.g. us.)")
        raise ValueError(msg)
    bare = value[len(geo) + 1:]
    if not bare or geo_of(bare) is not None:
        msg = f"needs exactly one geography prefix and a model id after {geo}."
        raise ValueError(msg)
    return value


def allowed_entry(value: str) -> str:
    """An ``--allowed-models`` entry: a bare id, or an exact profile id."""
    if geo_of(value) is not None:
        return shape(value)
    if not value or value != value.strip() or "," in value:
        msg = f"{value!r} is not a model id"
        raise ValueError(msg)
    return value


def grant(outputs: Mapping[str, str], stack: str | None, override: Sequence[str] = ()) -> ModelGrant:
    """What the stack grants (see the module docstring for the order)."""
    declared_geo = outputs.get("BedrockGeoRegion", "").strip()
    geo = declared_geo or LEGACY_GEO
    geo_text = (f"BedrockGeoRegion={declared_geo}" if declared_geo
                else f"no BedrockGeoRegion output, so {LEGACY_GEO}. profiles")
    if override:
        ids = tuple(m if geo_of(m) else f"{geo}.{m}" for m in override)
        return ModelGrant(ids, f"--allowed-models, with {geo_text}", geo)
    listed = [m.strip() for m in outputs.get("BedrockModelIds", "").split(",") if m.strip()]
    if listed:
        return ModelGrant(tuple(f"{geo}.{m}" for m in listed),
                          f"stack {stack}'s BedrockModelIds output, with {geo_text}", geo)
    where = f"stack {stack} has no BedrockModelIds output" if stack else "no stack was read (--repo-table)"
    return ModelGrant(tuple(f"{geo}.{m}" for m in DEFAULT_MODELS),
                      f"{where}, so ABCA's default model list, with {geo_text}", geo)


def check(value: str, granted: ModelGrant) -> str:
    """``value`` if the grant covers it, else ``ValueError`` naming the rule and the ids it allows."""
    if value in granted.ids:
        return value
    geo = geo_of(value)
    bare = value[len(geo) + 1:] if geo else value
    if geo and geo != granted.geo and f"{granted.geo}.{bare}" in granted.ids:
        why = f"is a {geo!r} profile, but the grant covers {granted.geo!r} profiles"
    else:
        why = "is not granted"
    msg = f"{value!r} {why} (rule: {granted.rule}); allowed: {', '.join(granted.ids)}"
    raise ValueError(msg)
