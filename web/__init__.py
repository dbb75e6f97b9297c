"""The HTTP surface: REST, compatibility routes, admin, health."""
