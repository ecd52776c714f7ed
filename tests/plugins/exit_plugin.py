"""A plugin that calls ``sys.exit`` at import (a script's habit): it must be listed as
unavailable, never take ``metaplastic backends`` (or the process) down."""

import sys

sys.exit("exit_plugin was run as a script\nsecond line of the message")
