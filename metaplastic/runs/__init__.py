"""Run directories: the one place that names, reads and writes the files of a run."""
