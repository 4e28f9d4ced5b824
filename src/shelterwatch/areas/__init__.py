"""Administrative areas that alerts are issued for (DESIGN §2 Area)."""
