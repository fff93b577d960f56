"""Users, roles, jurisdiction scopes, API keys and the audit log."""
