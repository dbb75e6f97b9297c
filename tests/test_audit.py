"""`make audit`'s verdict over pip-audit's JSON report: a known vulnerability always
fails; a package that could not be checked is never reported as clean."""

from __future__ import annotations

from scripts.audit import EXIT_CLEAN, EXIT_FAILED, verdict

CLEAN = {"name": "aiohttp", "version": "3.14.5", "vulns": []}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
}
SKIPPED = {"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def test_a_known_vulnerability_fails_in_every_mode() -> None:
    for allow in (False, True):
        result = verdict({"dependencies": [CLEAN, VULNERABLE, SKIPPED]}, allow_unreachable=allow)
        assert result.code == EXIT_FAILED
        assert "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in result.lines


def test_an_unchecked_package_fails_unless_an_incomplete_audit_is_accepted() -> None:
    strict = verdict({"dependencies": [CLEAN, SKIPPED]}, allow_unreachable=False)
    assert strict.code == EXIT_FAILED
    assert strict.lines[0].startswith("AUDIT INCOMPLETE: 1 of 2 packages could not be checked")
    accepted = verdict({"dependencies": [CLEAN, SKIPPED]}, allow_unreachable=True)
    assert accepted.code == EXIT_CLEAN
    assert accepted.lines[0].startswith("AUDIT INCOMPLETE")
    assert accepted.lines[-1] == "no known vulnerability in the 1 packages checked"


def test_a_clean_environment_passes() -> None:
    result = verdict({"dependencies": [CLEAN]}, allow_unreachable=False)
    assert result.code == EXIT_CLEAN
    assert result.lines == ["no known vulnerability in the 1 packages checked"]


def test_an_audit_that_checked_nothing_never_reads_as_clean() -> None:
    result = verdict({"dependencies": [SKIPPED]}, allow_unreachable=True)
    assert result.lines[-1] == "no package could be checked: vulnerabilities unknown"
