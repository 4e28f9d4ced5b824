"""Every sentence the product says to people, worded from one catalogue (`catalogue.json`)."""
