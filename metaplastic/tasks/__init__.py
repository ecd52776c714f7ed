"""Task families, one file each. Each is registered as an entry point in the group
``metaplastic.tasks`` and built with :func:`metaplastic.make_tasks`."""

from metaplastic.tasks.base import SPLITS, TaskFamily

__all__ = ["SPLITS", "TaskFamily"]
