"""A plugin whose import is interrupted (the user's Ctrl-C while it loads): the interrupt
must go through, not be swallowed as "unavailable"."""

raise KeyboardInterrupt
