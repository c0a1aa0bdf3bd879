"""axe-core (vendored under tests/browser/vendor/axe-core, MPL-2.0, see its LICENSE), run inside the page.

It is evaluated through the DevTools protocol, so the page's own Content-Security-Policy (script-src 'self')
does not have to allow it, and nothing is fetched from outside this machine."""

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
FAILING_IMPACTS = ("serious", "critical")


def serious_violations(page) -> list[str]:
    """Every serious or critical axe-core violation on the page as it is now, one line per element."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}) at {node['target']}: {violation['help']}"
        for violation in results["violations"]
        if violation["impact"] in FAILING_IMPACTS
        for node in violation["nodes"]
    ]
