"""External worker runtimes: provisioning, the framed protocol, worker processes.

Some backends need software the host's Python cannot import (Lava needs Python 3.10 and
numpy < 2). The library provisions such a runtime — a separate virtual environment with its
own interpreter — and runs a worker process in it that speaks numbers-only frames over a
pipe; the host never imports that software.

- :mod:`metaplastic.workers.specs`: what each runtime is (interpreter version, pinned
  requirements, the module whose import proves it healthy).
- :mod:`metaplastic.workers.provision`: install, locate, check and remove runtimes
  (``metaplastic runtime install|status|remove``).
- :mod:`metaplastic.workers.remote`: the code that runs inside a runtime, copied there as
  the package ``metaplastic_runtime`` (standard library and numpy only).

This layer imports only the bottom of the package (``core``, ``errors``, ``params``).
"""
