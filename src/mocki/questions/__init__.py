"""Questions domain."""
