"""SMS for push-button phones: reports by the number on the door sign, nearest by address."""
