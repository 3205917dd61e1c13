"""Reliability: durable before ack, exactly once, resumable, tamper-evident, restorable."""
