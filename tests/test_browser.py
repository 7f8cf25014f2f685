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


@pytest.fixture
def browser(tmp_path: Path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("chromium and chromium-driver are missing: run `make test`, which installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
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
