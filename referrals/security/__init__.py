"""Access control, sessions, passwords and the cryptography under the identity store."""
