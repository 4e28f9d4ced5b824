"""shelterwatch: keeps a city's bomb shelters open and ready when the air-raid siren sounds."""

__version__ = "0.1.0"
