"""Who is calling: credentials, authentication, roles and permissions, accounts, projects, users,
API keys."""
