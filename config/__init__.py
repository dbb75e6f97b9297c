"""Settings of the service, built once from the environment."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
