"""Pure law: working days, deadlines, settings. No I/O beyond reading the settings file."""
