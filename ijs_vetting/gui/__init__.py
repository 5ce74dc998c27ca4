"""The Qt front: windows and dialogs over the services, never the database directly."""
