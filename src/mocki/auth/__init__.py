"""Accounts, passwords, JWT access and rotating refresh tokens, Firebase sign-in."""
