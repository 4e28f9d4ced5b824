"""Door controllers over MQTT: unlock commands out, state messages in as evidence."""
