"""What every package stands on: settings, the database boundary, errors, logs and metrics,
AWS clients, paging, child processes, migrations."""
