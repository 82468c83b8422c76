"""Opening a report in headless Chromium (Debian's package, driven by Playwright).

What a reader would see is what is checked: the page opens from disk with no server, logs no
console error and throws no page error, and every plotly figure has drawn an SVG of non-zero
size with its series in it. Used by the browser test and to take the README's screenshot.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
REQUIRE_ENV = "STOCKML_REQUIRE_BROWSER"

# Every figure container: the size of its main SVG (plotly draws one per figure, and another
# for its hover layer: the first is the chart), the type plotly gave its x axis, how many
# traces it was given and how many trace groups it drew on cartesian axes (lines, bars, a
# heatmap's image; a trace without points draws none).
FIGURES_SCRIPT = """
() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(div => {
    const svg = div.querySelector('.main-svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const layout = div._fullLayout || {};
    return {width: box.width, height: box.height, x_type: (layout.xaxis || {}).type || null,
            traces: (div.data || []).length,
            drawn: div.querySelectorAll('.cartesianlayer .trace, .cartesianlayer .hm').length};
})
"""


def chromium_or_skip() -> str:
    """Chromium's path; skip when it is missing, unless STOCKML_REQUIRE_BROWSER is set (CI)."""
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def open_report(page_path: Path, screenshot: Path, chromium: str) -> list[dict[str, Any]]:
    """Open the page, fail on any console or page error, save a full-page screenshot, and
    return each figure as drawn: `width`, `height` (pixels), `x_type` (its x axis), `traces`
    (given) and `drawn` (trace groups drawn on cartesian axes)."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            figures = page.evaluate(FIGURES_SCRIPT)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert not errors, f"the browser reported errors: {errors}"
    return list(figures)
