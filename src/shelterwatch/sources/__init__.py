"""Sources of residents' evidence: the surge detector and operators' quarantines."""
