"""Helpers shared by the test tiers and the benchmarks: a fake link and a seeded world for the
TUI (`tui`), protocol frames over a real websocket (`wire`), real `warroom` processes
(`harness`), terminals in tmux (`tmux`) and the real OpenSSH client (`ssh`)."""
