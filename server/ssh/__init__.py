"""The SSH gateway: `ssh -p 2222 [INC-7@]host` opens the war room as the user the key belongs to.

asyncssh serves SSH on the hub's own event loop. A login is by public key only, checked against
the users table on every attempt, so a key added with `warroom user key add` works at once and a
revoked user's keys stop. The SSH user name may pick an incident (`INC-7@host`); it never says
who you are.

Each session with a terminal gets a fresh PTY and, on it, a child that talks to the hub like any
other client: the program the settings name (`warroom join`, as `warroom serve` wires it), run as
the leader of a new session, logged in with an in-memory session token (`Hub.session_token`)
passed in its environment. The gateway only carries bytes between the PTY and the SSH channel,
and window sizes to the PTY. When the SSH link drops, the child's process group is hung up, then
killed after a short grace, and reaped. Nothing else is served: no shell, no exec, no SFTP or
SCP, no forwarding of ports, agents or X11.

The children are forked from one pre-imported process the gateway starts with SSH (`zygote`),
which has imported the TUI once, so that sessions share its memory; each child still leads its
own session on its own PTY, with its own environment, and the gateway still signals, waits for
and reaps it (`forked`). If that process dies, the gateway starts another; its open sessions
carry on. With `WARROOM_SSH_FORK=0`, or if it cannot start, each child is started afresh.

Modules: `gateway` (listening, shutdown, revocations), `login` (key auth, refusals), `terminal`
(one session: PTY and channel), `child` (the TUI's process and environment), `forked` (the
gateway's side of the pre-imported process), `zygote` (that process), `host_key`, `settings`.

Importing this package loads no SSH library: the hub imports `server.ssh.gateway` (and with it
asyncssh) only when it serves SSH.
"""
