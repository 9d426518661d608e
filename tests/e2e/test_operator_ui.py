"""The operator page and the API docs in a real headless Chromium (Debian's, driven by Selenium through
chromedriver) against `selene up`: the docs render with every non-loopback host unreachable; the page
signs in, registers a stream, shows its live preview updating and an event arriving. Screenshots go to
tests/out/."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.root.stack import SAMPLE_CLIP
from tests.e2e.test_selene_up import Stack

webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is a dev dependency (pip install -e '.[dev]')")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
OUT = Path(__file__).resolve().parents[1] / "out"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (infra/system-deps.sh installs them as root)",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("ui"), args=())
    try:
        running.wait_for_line("Selene is up", timeout=90)
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.send_signal(signal.SIGINT)
            running.proc.wait(timeout=60)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1100",
                 # No internet: every host but loopback fails to resolve, as on a camera network.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait(driver: webdriver.Chrome, check, timeout: float = 30):  # type: ignore[no-untyped-def]
    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda d: check(d))


def _shot(driver: webdriver.Chrome, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    driver.save_screenshot(str(OUT / name))


def test_docs_render_their_operations_offline(stack: Stack, browser: webdriver.Chrome) -> None:
    for path, selector in (("/docs", ".opblock"), ("/redoc", "[data-section-id^='tag/'], [data-section-id^='operation/']")):
        browser.get(f"http://127.0.0.1:{stack.api_port}{path}")
        operations = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, selector))  # noqa: B023
        assert len(operations) > 10, path
        _shot(browser, f"docs{path.replace('/', '-')}.png")
    assert "/6/streams/{stream_id}/preview" in browser.page_source


def test_the_operator_registers_a_stream_and_watches_it(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"http://127.0.0.1:{stack.api_port}/ui")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#health .chip.ok"))
    browser.find_element(By.ID, "login-password").send_keys("root")
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    _wait(browser, lambda d: d.find_element(By.ID, "who").text == "root@visionlabs.ai")

    browser.find_element(By.ID, "reg-name").send_keys("entrance")
    Select(browser.find_element(By.ID, "reg-type")).select_by_value("stream")
    browser.find_element(By.ID, "reg-reference").send_keys(str(SAMPLE_CLIP))
    canvas = browser.find_element(By.ID, "canvas")  # a counting line across the frame, drawn with two clicks
    Select(browser.find_element(By.ID, "draw-mode")).select_by_value("line")
    for x in (-0.4, 0.4):
        webdriver.ActionChains(browser).move_to_element_with_offset(canvas, int(canvas.size["width"] * x), 0).click().perform()
    assert '"line_id": "line1"' in browser.find_element(By.ID, "reg-parameters").get_attribute("value")
    browser.find_element(By.CSS_SELECTOR, "#register button[type=submit]").click()
    _wait(browser, lambda d: "registered" in d.find_element(By.ID, "reg-result").text, timeout=60)
    row = _wait(browser, lambda d: d.find_elements(By.XPATH, "//tr[td[contains(., 'entrance')]]"))[0]
    assert "entrance" in row.text
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#streams thead th")]
    assert row.find_elements(By.TAG_NAME, "td")[headers.index("dropped")].text.isdigit()  # frames_dropped, summed

    # The preview is an <img> on the MJPEG stream: its pixels change as processed frames arrive.
    preview = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#previews img"))[0]
    _wait(browser, lambda d: d.execute_script("return arguments[0].naturalWidth", preview) > 0, timeout=60)
    grab = "const c = document.createElement('canvas'); c.width = 64; c.height = 48;" \
           "c.getContext('2d').drawImage(arguments[0], 0, 0, 64, 48); return c.toDataURL();"
    first = browser.execute_script(grab, preview)
    _wait(browser, lambda d: d.execute_script(grab, preview) != first, timeout=30)

    _wait(browser, lambda d: d.find_elements(By.XPATH, "//table[@id='events']//td[contains(., 'entrance')]"), timeout=90)
    assert browser.find_elements(By.CSS_SELECTOR, "#streams .chip.in_progress")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#chart circle"), timeout=60)  # the first minute shows
    browser.execute_script("window.scrollTo(0, 0)")
    time.sleep(1)
    _shot(browser, "ui.png")


def test_the_operator_sees_tasks_and_their_progress(stack: Stack, browser: webdriver.Chrome) -> None:
    admin = ("root@visionlabs.ai", "root")
    api = f"http://127.0.0.1:{stack.api_port}/6"
    photo = (Path(__file__).resolve().parents[1] / "data" / "faces" / "astronaut.jpg").read_bytes()
    face = httpx.post(f"{api}/faces", params={"user_data": "leaver"}, content=photo, auth=admin, timeout=60,
                      headers={"Content-Type": "image/jpeg"})
    assert face.status_code == 201, face.text
    created = httpx.post(f"{api}/tasks/gc", auth=admin, timeout=30,
                         json={"description": "nightly clean-up", "content": {"filters": {"user_data": "leaver"}}})
    assert created.status_code == 202, created.text
    task_id = created.json()["task_id"]
    browser.get(f"http://127.0.0.1:{stack.api_port}/ui")
    browser.find_element(By.ID, "login-password").send_keys(admin[1])
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    row = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"#tasks tr[data-task='{task_id}']"), timeout=60)[0]
    assert "gc" in row.text and "nightly clean-up" in row.text
    # The task worker in the API finishes it; the page shows it done with all its subtasks.
    _wait(browser, lambda d: "done" in d.find_element(By.CSS_SELECTOR, f"#tasks tr[data-task='{task_id}']").text,
          timeout=60)
    progress = browser.find_element(By.CSS_SELECTOR, f"#tasks tr[data-task='{task_id}'] progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "1"
    assert httpx.get(f"{api}/faces/{face.json()['face_id']}", auth=admin, timeout=30).status_code == 404
