"""Configuration errors: each names the setting that is wrong."""


class SettingsError(Exception):
    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"setting {name}: {problem}")
