"""Users, password hashes, API tokens, roles and scope rules, the audit trail of writes."""
