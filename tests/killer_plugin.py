"""A test plugin that kills the process running it, for worker-death tests of executors.

Inert unless the run's settings have a ``[plugins.killer_plugin]`` table, so the same plugin
set gives the baseline run. A document whose title holds ``KILL-ONCE`` kills its worker the
first time only (a marker file remembers); ``KILL-ALWAYS`` kills every time.
"""

from __future__ import annotations

import os
import signal

from corpus import hookimpl


@hookimpl
def enrich(document, config):
    settings = config.plugin_settings("killer_plugin")
    if not settings:
        return None
    title = document.title or ""
    if "KILL-ALWAYS" in title:
        os.kill(os.getpid(), signal.SIGKILL)
    if "KILL-ONCE" in title:
        marker = os.path.join(settings["markers"], document.key.replace("/", "_"))
        if not os.path.exists(marker):
            with open(marker, "w") as fh:
                fh.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
    return None
