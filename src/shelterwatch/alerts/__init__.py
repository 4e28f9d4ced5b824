"""Air-raid alerts: the live alert state of every area, fed by operators and real feeds."""
