"""What every tier shares: the processes the tests start can be interrupted as a terminal's
Ctrl-C interrupts them, however the test run itself was started."""

from __future__ import annotations

import signal

# A test run started in the background by a shell without job control (`cmd &` in a script)
# ignores SIGINT, and an ignored signal stays ignored in every process it starts: `warroom tail`
# would then never hear the Ctrl-C the tests send it. A handler, unlike an ignore, is reset to
# the default in a new program, so the processes started from here react to SIGINT as usual.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
