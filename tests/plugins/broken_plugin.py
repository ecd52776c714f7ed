"""A plugin whose import fails: it must never break listing or using the others."""

raise ImportError("broken_plugin needs a library that is not installed\nsecond line of the error")
