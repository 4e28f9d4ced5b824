"""Residents' reports: the anonymous write limits shared by every process on the database, the
surge detector, and the tracking ids on receipts."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class ReportSettings(BaseSettings):
    # Anonymous write limits, shared by every process on the database
    reports_per_device_per_hour: int = 20
    reports_per_address_per_minute: int = 600
    # One person is at one door: how many different shelters one source may report about in an
    # hour — a network without an issued device id, or one issued device id.
    shelters_per_network_per_hour: int = 5
    shelters_per_device_per_hour: int = 3
    # … and all issued ids behind one network together (a NAT's many phones, or one minting ids).
    shelters_per_network_issued_per_hour: int = 5
    # Issued device ids: proof-of-work bits a phone pays once, and ids per network an hour.
    device_pow_bits: int = 16
    devices_per_address_per_hour: int = 30
    # The surge detector (sources/): a source is shown to the desk when its residents' reports
    # in the last hour reach this many different shelters, or this many came in five minutes.
    surge_shelters_per_hour: int = 3
    surge_reports_per_5_min: int = 30
    # Tracking ids on receipts: the city's letters, e.g. KV-7F3K-2Q (issue 4).
    tracking_prefix: str = "KV"
