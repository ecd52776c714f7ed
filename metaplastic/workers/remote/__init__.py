"""Code that runs inside a runtime the library provisions (a separate interpreter, e.g.
Python 3.10 with lava-nc): copied there as the package ``metaplastic_runtime`` by
``metaplastic runtime install``. These files import only the standard library, numpy and
each other (relatively), so the same file runs on both sides of the pipe."""
