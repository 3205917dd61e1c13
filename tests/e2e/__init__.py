"""End to end: real `warroom` processes, terminals in tmux, the real OpenSSH client."""
