"""ipywidgets dashboards on a Hub's services, for Jupyter.

    hub = await Hub.open()
    mediahub.notebook.dashboard(hub)     # add box, live library table, continue-watching, preview
"""

from mediahub.notebook.dashboard import Dashboard, dashboard

__all__ = ["Dashboard", "dashboard"]
