"""Replays of real nights, in accelerated time, on the bundled registry."""
