"""The web page in headless Chromium (Debian chromium + chromium-driver, driven by Selenium): upload a
portrait and speech, render, and get a video the browser can play."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .serving import running_server

pytestmark = pytest.mark.slow
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


def chromium(profile: Path, *extra_flags: str) -> webdriver.Chrome:
    """Headless Debian Chromium with a fresh profile, driven by the system chromedriver."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("chromium and chromium-driver are missing: run `make test`, which installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture
def browser(tmp_path: Path):
    session = chromium(tmp_path / "profile")
    try:
        yield session
    finally:
        session.quit()


def test_upload_render_and_play_in_the_page(browser, tmp_path: Path, portrait: Path, speech_wav: Path) -> None:
    with running_server(tmp_path / "server") as server:
        browser.get(server.url + "/")
        wait = WebDriverWait(browser, 120)
        wait.until(lambda b: b.find_elements(By.ID, "opt-size"))  # options built from /v1/controls
        browser.find_element(By.ID, "portrait").send_keys(str(portrait))
        browser.find_element(By.ID, "audio").send_keys(str(speech_wav))
        size = browser.find_element(By.ID, "opt-size")
        size.clear()
        size.send_keys("128")
        browser.find_element(By.ID, "consent").click()
        browser.find_element(By.ID, "submit").click()
        wait.until(lambda b: b.find_element(By.ID, "video").is_displayed())
        playable = wait.until(lambda b: b.execute_script(
            "const v = document.getElementById('video');"
            "return v.readyState >= 2 && v.videoWidth > 0 ? [v.videoWidth, v.videoHeight, v.duration] : null;"))
        assert playable[:2] == [128, 128] and playable[2] > 2.0
        assert browser.execute_script("return document.getElementById('video').play().then(() => true)") is True
        status = browser.find_element(By.ID, "status").text
        assert status.startswith("Done")
        assert browser.find_element(By.ID, "download").get_attribute("href").endswith("/file")


def test_live_mode_streams_frames_into_the_page(tmp_path: Path) -> None:
    """Chromium's fake microphone (a beeping tone) through `WS /v1/live`: frames appear in the page."""
    browser = chromium(tmp_path / "profile", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
    try:
        with running_server(tmp_path / "server") as server:
            browser.get(server.url + "/")
            wait = WebDriverWait(browser, 120)
            wait.until(lambda b: b.find_elements(By.ID, "opt-size"))
            browser.find_element(By.ID, "use-sample").click()
            wait.until(lambda b: b.find_element(By.ID, "portrait-preview").is_displayed())
            size = browser.find_element(By.ID, "opt-size")
            size.clear()
            size.send_keys("128")
            browser.find_element(By.ID, "consent").click()
            browser.find_element(By.ID, "live-start").click()
            wait.until(lambda b: b.execute_script("return document.getElementById('live-frame').naturalWidth") == 128)
            first = browser.find_element(By.ID, "live-frame").get_attribute("src")
            wait.until(lambda b: b.find_element(By.ID, "live-frame").get_attribute("src") != first)  # still streaming
            assert browser.find_element(By.ID, "live-status").text == "Live: speak now."
            browser.find_element(By.ID, "live-stop").click()
    finally:
        browser.quit()
