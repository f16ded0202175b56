"""The task engine: long work outside requests, what users see of it, housekeeping, health."""
