"""Real-browser smoke test: headless chromium uploads files to the running app and sees the drivers chart.

Flow: open the app -> "Upload & map" -> upload a generated feedback CSV (with
hostile comments) and customer CSV through the page's ``input[type=file]`` ->
"Run" -> "Analyse" -> wait for the analysis -> "Drivers" -> the plotly chart
renders -> "Export" -> download the HTML report, the Excel workbook and comments.csv; the
report then renders its charts in the browser with the network cut off, and the
workbook holds no formula. Screenshots go to ``tests/app/screenshots/`` (the
README's ``docs/screenshot.png`` is the demo run's drivers page, taken by hand). No script
typed into a comment may run: any JavaScript dialog fails the test.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from insight.ui.navigation import PAGES, page_key

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
HOSTILE = (
    "<script>alert(1)</script> the app keeps crashing",
    "<img src=x onerror=alert(2)> I was billed twice",
    "[click here](javascript:alert(3)) support never answered",
    '=HYPERLINK("http://x") the price went up again',
)
ERROR_SELECTOR = '[data-testid="stAlertContentError"], [data-testid="stException"]'  # st.error, tracebacks
MIN_SUPPORT = 10  # customers per theme, so most themes of the small corpus get driver statistics
UI_TIMEOUT_MS = 60_000
HEADINGS = {"Start": "what your customers talk about", "Run": "Run the analysis"}  # the rest are titled as named
ANALYSIS_TIMEOUT_MS = 300_000  # the real pipeline on ~300 comments, MiniLM on a shared CPU


@pytest.fixture(scope="module")
def upload_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small generated corpus (300 customers) with hostile comments appended."""
    from corpora.generate import generate_corpus, write_corpus

    folder = tmp_path_factory.mktemp("browser-corpus")
    write_corpus(generate_corpus(n_customers=300, seed=1), folder)
    feedback = pd.read_csv(folder / "feedback.csv", dtype=str)
    hostile = pd.DataFrame(
        {
            "comment_id": [f"H{i}" for i in range(len(HOSTILE))],
            "customer_id": feedback["customer_id"].iloc[: len(HOSTILE)].tolist(),
            "date": feedback["date"].iloc[: len(HOSTILE)].tolist(),
            "channel": "review",
            "rating": "1",
            "text": list(HOSTILE),
        }
    )
    pd.concat([feedback, hostile], ignore_index=True).to_csv(folder / "feedback.csv", index=False)
    return {"feedback": folder / "feedback.csv", "customers": folder / "customers.csv"}


@pytest.mark.browser
@pytest.mark.parametrize("title", PAGES)
def test_every_page_opens_by_its_url(chromium_browser, streamlit_url, title):
    """A page's own URL (``/drivers``) opens that page, in a fresh session, without an error."""
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{streamlit_url}/{page_key(title)}", wait_until="domcontentloaded")
        heading = page.get_by_role("heading", name=HEADINGS.get(title, title)).first
        heading.wait_for(timeout=UI_TIMEOUT_MS)
        assert page.locator(ERROR_SELECTOR).count() == 0
        assert urlparse(page.url).path == ("/" if title == PAGES[0] else f"/{page_key(title)}")  # the default is the root
    finally:
        context.close()


def _open_page(page, name: str) -> None:
    """Pick a page in the sidebar navigation by its visible label."""
    page.get_by_test_id("stSidebar").get_by_text(name, exact=True).click()
    page.get_by_role("heading", name=name).first.wait_for(timeout=UI_TIMEOUT_MS)


def _upload(page, label: str, path: Path) -> None:
    """Set a file on the uploader whose visible label starts with ``label``."""
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
    uploader.locator("input[type=file]").set_input_files(str(path))


def _screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))  # the viewport: Streamlit scrolls its own container, not the page
    return path


@pytest.mark.browser
def test_upload_analyse_see_drivers_and_export(chromium_browser, streamlit_url, upload_files, tmp_path):
    from playwright.sync_api import expect

    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(streamlit_url, wait_until="domcontentloaded")
        page.get_by_test_id("stSidebar").wait_for(timeout=UI_TIMEOUT_MS)
        _screenshot(page, "0_start")

        _open_page(page, "Upload & map")
        _upload(page, "Feedback comments", upload_files["feedback"])
        expect(page.get_by_text("Rows kept").first).to_be_visible(timeout=UI_TIMEOUT_MS)
        _upload(page, "Customer table", upload_files["customers"])
        expect(page.get_by_text("Join match rate")).to_be_visible(timeout=UI_TIMEOUT_MS)
        _screenshot(page, "1_upload")

        _open_page(page, "Run")
        page.get_by_text("Settings", exact=True).click()  # a small corpus: lower the driver minimum support
        support = page.get_by_label("Minimum customers per theme for driver statistics")
        support.fill(str(MIN_SUPPORT))
        support.press("Enter")
        expect(support).to_have_value(str(MIN_SUPPORT), timeout=UI_TIMEOUT_MS)
        page.get_by_role("button", name="Analyse", exact=True).click()
        ready = page.get_by_text("Analysis ready")
        failed = page.locator(ERROR_SELECTOR)
        expect(ready.or_(failed).first).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
        assert failed.count() == 0, f"the analysis failed in the app: {failed.first.inner_text()}"
        _screenshot(page, "2_run")

        _open_page(page, "Drivers")
        chart = page.locator(".js-plotly-plot").first
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=UI_TIMEOUT_MS)
        expect(chart.locator(".scatterlayer .point").first).to_be_attached(timeout=UI_TIMEOUT_MS)
        assert chart.locator(".ytick").count() > 0  # themes on the axis
        chart.scroll_into_view_if_needed()
        _screenshot(page, "3_drivers")

        _open_page(page, "Export")
        with page.expect_download(timeout=ANALYSIS_TIMEOUT_MS) as download:
            page.get_by_role("button", name="HTML report").click()
        report_path = tmp_path / "insight_report.html"
        download.value.save_as(report_path)
        with page.expect_download(timeout=ANALYSIS_TIMEOUT_MS) as download:
            page.get_by_role("button", name="Excel workbook").click()
        workbook_path = tmp_path / "insight.xlsx"
        download.value.save_as(workbook_path)
        with page.expect_download(timeout=ANALYSIS_TIMEOUT_MS) as download:
            page.get_by_role("button", name="comments.csv", exact=True).click()
        comments_path = tmp_path / "comments.csv"
        download.value.save_as(comments_path)

        assert dialogs == [], f"a script from a comment ran: {dialogs}"
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
    finally:
        context.close()
    _check_report_offline(chromium_browser, report_path)
    _check_workbook(workbook_path)
    comments = pd.read_csv(comments_path)
    assert len(comments) > 100 and {"comment_id", "sentiment_score", "themes"} <= set(comments.columns)


def _check_report_offline(browser, path: Path) -> None:
    """The exported HTML report renders its charts with the network cut off and runs no comment's script."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []

    def block(route) -> None:
        if not route.request.url.startswith(("file:", "data:", "blob:")):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", block)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(path.as_uri())
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=UI_TIMEOUT_MS)
        assert page.locator(".js-plotly-plot").count() >= 2  # drivers and more
        assert page.get_by_role("heading", name="Drivers").count() == 1
        _screenshot(page, "4_html_report")
        assert requests == [], f"the report fetched {requests}"
        assert dialogs == [], f"a script from a comment ran in the report: {dialogs}"
    finally:
        context.close()


def _check_workbook(path: Path) -> None:
    """The exported workbook holds no formula and no text cell a spreadsheet would read as one."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    assert {"summary", "comments", "sentences", "themes", "drivers"} <= set(book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert cell.value[:1] not in "=+-@", f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
