"""The pure core: domain, commands, events, `decide`, `apply`, policy, protocol and disclosure.

Nothing here does I/O or imports textual, websockets or SQL; time comes in as a parameter.
"""
