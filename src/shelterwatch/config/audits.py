"""Readiness audits (issue 12): the published category rule a city judges by, the deadlines of
deficiencies by severity, the re-audit interval, and where photos are kept — a directory by
default, an S3-compatible bucket when `photos_s3_url` is set."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class AuditSettings(BaseSettings):
    readiness_rule: Literal["worst-of/1", "worst-of-strict/1"] = "worst-of/1"
    deficiency_days_critical: int = Field(default=1, ge=1)
    deficiency_days_major: int = Field(default=30, ge=1)
    deficiency_days_minor: int = Field(default=90, ge=1)
    reaudit_days: int = Field(default=91, ge=1)  # quarterly
    gps_accuracy_flag_m: float = 30.0
    photo_dir: str = "var/photos"
    photo_max_bytes: int = 500_000
    photos_s3_url: str = ""  # e.g. http://127.0.0.1:9000 (path-style addressing)
    photos_s3_bucket: str = "shelterwatch-photos"
    photos_s3_region: str = "us-east-1"
    photos_s3_key_id: str = ""
    photos_s3_secret: str = ""
