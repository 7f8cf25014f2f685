"""The web app in headless Chromium (Debian chromium + chromium-driver, driven by Selenium): first visit on a
desktop and a phone screen, renders from an upload, from text and from a (fake) microphone recording with their
stage progress, captions and provenance, the MP4 playing, live start/stop; axe-core (from the axe-core-python
wheel, run offline in the page) finds no serious accessibility violation.

Screenshots go to ``$TALKINGHEAD_SCREENSHOTS`` when set (to look at them), else to the test's tmp folder."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import av
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from .serving import request, running_server

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


DESKTOP, PHONE = (1280, 900), (390, 844)
MIN_PHONE_TARGET_PX = 32
# every status text the page shows, in order (a render's stages pass faster than a poll could see them)
WATCH_STATUS = """
window.statusSeen = [];
new MutationObserver(() => window.statusSeen.push(document.getElementById('status').textContent))
  .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true});
"""

# controls, buttons and images a screen reader could not name (WCAG 4.1.2 / 1.1.1, as axe-core checks them)
UNNAMED_CONTROLS = """
const named = (e) => (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
return [
  ...[...document.querySelectorAll('input, select, textarea')].filter(e => !named(e)).map(e => 'control ' + e.id),
  ...[...document.querySelectorAll('button, a')].filter(e => !e.textContent.trim() && !e.getAttribute('aria-label'))
     .map(e => 'button ' + e.id),
  ...[...document.querySelectorAll('img')].filter(e => !e.hasAttribute('alt')).map(e => 'image ' + e.id),
];
"""


SERIOUS = ("serious", "critical")


def accessibility_problems(browser: webdriver.Chrome, shots: Path, name: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (all its findings go to a JSON file
    beside the screenshots)."""
    from axe_core_python.selenium import Axe

    browser.set_script_timeout(60)
    results = Axe().run(browser)
    (shots / f"axe-{name}.json").write_text(json.dumps(
        {kind: [{k: v[k] for k in ("id", "impact", "help")} | {"nodes": [
            [n["target"], [check["message"] for check in n["any"]]] for n in v["nodes"]]} for v in results[kind]]
         for kind in ("violations", "incomplete")} | {
            "passes": len(results["passes"]), "axe": results["testEngine"]["version"]}, indent=1))
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"] if v["impact"] in SERIOUS]


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TALKINGHEAD_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def viewport(browser: webdriver.Chrome, width: int, height: int) -> None:
    """Exactly this CSS viewport (a phone's is touch-sized with a mobile user agent's layout)."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def open_app(browser: webdriver.Chrome, url: str) -> WebDriverWait:
    browser.get(url + "/")
    wait = WebDriverWait(browser, 120)
    wait.until(lambda b: b.find_elements(By.ID, "opt-size"))  # widgets built from /v1/controls
    return wait


def click(browser: webdriver.Chrome, css: str) -> None:
    """Click as a person would: scrolled to the middle of the screen first, clear of the phone's Render bar."""
    element = browser.find_element(By.CSS_SELECTOR, css)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def choose_128_px_and_consent(browser: webdriver.Chrome) -> None:
    """Ask for a 128-px video (quick to render) and tick the consent box."""
    size = browser.find_element(By.ID, "opt-size")
    size.clear()
    size.send_keys("128")
    browser.find_element(By.ID, "consent").click()


@pytest.fixture
def browser(tmp_path: Path):
    session = chromium(tmp_path / "profile")
    try:
        yield session
    finally:
        session.quit()


def test_first_visit_on_desktop_and_phone(browser, tmp_path: Path) -> None:
    """Render in view without scrolling on a desktop; on a phone every control is at least 32 px tall and
    nothing is wider than the screen; no request leaves the server; the Advanced options come from the spec."""
    shots = screenshot_dir(tmp_path)
    with running_server(tmp_path / "server") as server:
        viewport(browser, *DESKTOP)
        open_app(browser, server.url)
        box = browser.execute_script(
            "const r = document.getElementById('submit').getBoundingClientRect();"
            "return [r.top, r.bottom, innerHeight, scrollY];")
        assert box[0] >= 0 and box[1] <= box[2] and box[3] == 0, box
        browser.save_screenshot(str(shots / "desktop-first-visit.png"))
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        assert browser.find_element(By.ID, "submit").is_displayed()  # sticky: still there at the bottom
        advanced = browser.find_elements(By.CSS_SELECTOR, "#controls [name]")
        assert {"fps", "crop", "label_position", "motion_in"} <= {e.get_attribute("name") for e in advanced}
        assert browser.find_element(By.ID, "opt-emotion").tag_name == "select"
        assert browser.execute_script(UNNAMED_CONTROLS) == []
        assert accessibility_problems(browser, shots, "desktop-first-visit") == []
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert browser.switch_to.active_element.text == "Skip to Render"  # keyboard users reach Render at once

        viewport(browser, *PHONE)
        open_app(browser, server.url)
        browser.save_screenshot(str(shots / "phone-first-visit.png"))
        click(browser, "#advanced summary")
        for mode in ("text", "record", "upload"):  # every speech mode's controls shown once
            click(browser, f"input[name=speech-mode][value={mode}]")
            small = browser.execute_script(f"""
                return [...document.querySelectorAll('input, select, textarea, button, summary, .button')]
                  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
                  .map(e => [e.id || e.name || e.textContent.trim(), e.getBoundingClientRect().height])
                  .filter(([, h]) => h < {MIN_PHONE_TARGET_PX});""")
            assert small == [], f"{mode}: controls under {MIN_PHONE_TARGET_PX} px tall on a phone: {small}"
        assert browser.execute_script("return document.documentElement.scrollWidth <= innerWidth")
        button = browser.execute_script("const r = document.getElementById('submit').getBoundingClientRect();"
                                        "return [r.top, r.bottom, innerHeight];")
        assert button[0] >= 0 and button[1] <= button[2], button  # fixed at the bottom of the phone's screen
        browser.execute_script("document.getElementById('advanced').scrollIntoView()")
        browser.save_screenshot(str(shots / "phone-advanced.png"))
        assert accessibility_problems(browser, shots, "phone-advanced-open") == []
        requests = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert requests and all(r.startswith(server.url) for r in requests), requests

        viewport(browser, *DESKTOP)  # the API reference: drawn from /openapi.json, offline
        browser.get(server.url + "/docs")
        WebDriverWait(browser, 30).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".endpoint")) >= 6)
        assert "GET/v1/videos" in browser.find_element(By.ID, "docs-body").text.replace(" ", "").replace("\n", "")
        requests = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(r.startswith(server.url) for r in requests), requests
        browser.save_screenshot(str(shots / "docs.png"))
        assert accessibility_problems(browser, shots, "docs") == []


PLAYING = """
const v = document.getElementById('video');
window.played = false;
v.addEventListener('playing', () => { window.played = true; });
v.muted = true;
v.play();
"""


def test_render_from_text_shows_stages_captions_and_provenance(browser, tmp_path: Path) -> None:
    """Stage progress, then the MP4 (with its soft subtitle track, seen by PyAV) plays in the page: `playing`
    fires and the time advances; the WebVTT captions show over it and the toggle hides them; verify's
    findings are listed; axe-core finds nothing serious in the finished page."""
    shots = screenshot_dir(tmp_path)
    with running_server(tmp_path / "server") as server:
        viewport(browser, *DESKTOP)
        wait = open_app(browser, server.url)
        browser.execute_script(WATCH_STATUS)
        browser.find_element(By.ID, "use-sample").click()
        wait.until(lambda b: b.find_element(By.ID, "portrait-preview").is_displayed())
        assert browser.find_element(By.ID, "opt-transcript").is_displayed()  # with an upload, asked
        browser.find_element(By.CSS_SELECTOR, "input[name=speech-mode][value=text]").click()
        assert not browser.find_element(By.ID, "opt-transcript").is_displayed()  # typed text is its own
        browser.find_element(By.ID, "opt-text").send_keys("Hello there. Nice to meet you.")
        choose_128_px_and_consent(browser)
        browser.find_element(By.ID, "submit").click()
        wait.until(lambda b: b.find_element(By.ID, "video").is_displayed())
        wait.until(lambda b: b.execute_script("return document.getElementById('video').readyState >= 2"))
        seen = browser.execute_script("return window.statusSeen")
        assert any(s.startswith(("Analysing speech", "Rendering")) for s in seen), seen
        assert any("%" in s for s in seen), seen
        assert seen[-1].startswith("Done")
        history = browser.find_element(By.ID, "history").text
        assert "text: Hello there. Nice to meet" in history and "(done)" in history

        video_url = browser.find_element(By.ID, "video").get_attribute("src")
        mp4 = tmp_path / "served.mp4"
        mp4.write_bytes(request(video_url)[2])
        with av.open(str(mp4)) as container:  # the soft subtitle track is in the file the page plays
            assert [s.codec_context.name for s in container.streams.subtitles] == ["mov_text"]

        cues = wait.until(lambda b: b.execute_script(
            "const t = document.getElementById('video').textTracks[0];"
            "return t && t.mode === 'showing' && t.cues && t.cues.length ? [...t.cues].map(c => c.text) : null;"))
        assert cues == ["Hello there.", "Nice to meet you."]
        browser.execute_script(PLAYING)
        wait.until(lambda b: b.execute_script("return window.played"))
        start = browser.execute_script("return document.getElementById('video').currentTime")
        wait.until(lambda b: b.execute_script("return document.getElementById('video').currentTime") > start + 0.3)
        shown = wait.until(lambda b: b.execute_script(
            "const t = document.getElementById('video').textTracks[0];"
            "return t.activeCues && t.activeCues.length ? t.activeCues[0].text : null;"))
        assert shown in cues
        browser.execute_script("const v = document.getElementById('video'); v.pause(); v.currentTime = 0.5;")
        verdict = wait.until(lambda b: b.find_element(By.ID, "verify-status").text.startswith("Yes")
                             and b.find_element(By.ID, "verify-findings").text)
        for check in ("Invisible watermark: found", "MP4 metadata: found", "C2PA content credentials: found"):
            assert check in verdict, verdict
        browser.save_screenshot(str(shots / "desktop-text-render-done.png"))
        assert accessibility_problems(browser, shots, "desktop-result") == []

        toggle = browser.find_element(By.ID, "captions-toggle")
        toggle.click()
        assert browser.execute_script("return document.getElementById('video').textTracks[0].mode") == "hidden"
        toggle.click()
        assert browser.execute_script("return document.getElementById('video').textTracks[0].mode") == "showing"


def test_upload_render_and_play_in_the_page(browser, tmp_path: Path, portrait: Path, speech_wav: Path) -> None:
    with running_server(tmp_path / "server") as server:
        viewport(browser, *PHONE)
        wait = open_app(browser, server.url)
        browser.execute_script(WATCH_STATUS)
        browser.find_element(By.ID, "portrait").send_keys(str(portrait))
        browser.find_element(By.ID, "audio").send_keys(str(speech_wav))
        language = browser.find_element(By.ID, "opt-language")  # an upload's language can be said
        assert language.is_displayed()
        language.clear()
        language.send_keys("de")
        choose_128_px_and_consent(browser)
        browser.execute_script("document.getElementById('opt-label_text').value = '\u0f56\u0f7c\u0f51';")  # Tibetan
        browser.find_element(By.ID, "submit").click()  # refused: no label font draws it
        refused = wait.until(lambda b: b.find_element(By.ID, "status").text.startswith("Could not render")
                             and b.find_element(By.ID, "status").text)
        assert "'Label text'" in refused and "--" not in refused, refused  # the field's name, not a CLI flag
        browser.execute_script("document.getElementById('opt-label_text').value = 'AI-generated';")
        browser.execute_script(  # keep the form fields the page sends
            "window.sentFields = []; const send = window.fetch;"
            "window.fetch = (url, init) => { if (init && init.body instanceof FormData)"
            " window.sentFields.push([...init.body.entries()].map(([k, v]) => [k, String(v)]));"
            " return send(url, init); };")
        browser.find_element(By.ID, "submit").click()
        wait.until(lambda b: b.find_element(By.ID, "video").is_displayed())
        assert ["language", "de"] in browser.execute_script("return window.sentFields")[0]
        playable = wait.until(lambda b: b.execute_script(
            "const v = document.getElementById('video');"
            "return v.readyState >= 2 && v.videoWidth > 0 ? [v.videoWidth, v.videoHeight, v.duration] : null;"))
        assert playable[:2] == [128, 128] and playable[2] > 2.0
        browser.execute_script(PLAYING)
        wait.until(lambda b: b.execute_script("return window.played"))
        wait.until(lambda b: b.execute_script("return document.getElementById('video').currentTime") > 0.3)
        status = browser.find_element(By.ID, "status").text
        assert status.startswith("Done")
        assert browser.find_element(By.ID, "download").get_attribute("href").endswith("/file")
        assert browser.find_element(By.ID, "audio-playback").get_attribute("src")  # the upload can be played back
        seen = browser.execute_script("return window.statusSeen")
        assert any(s.startswith(("Analysing speech", "Rendering", "Encoding")) for s in seen), seen
        browser.execute_script("const v = document.getElementById('video'); v.pause(); v.currentTime = 1.0;")
        wait.until(lambda b: b.find_element(By.ID, "verify-status").text.startswith("Yes"))
        browser.execute_script("document.getElementById('result').scrollIntoView()")
        shots = screenshot_dir(tmp_path)
        browser.save_screenshot(str(shots / "phone-upload-render-done.png"))
        assert accessibility_problems(browser, shots, "phone-result") == []


def test_live_mode_and_a_recording_from_the_microphone(tmp_path: Path) -> None:
    """Chromium's fake microphone (a beeping tone) through `WS /v1/live`: frames appear in the page, Stop says so;
    then a 1.5 s recording is played back and rendered."""
    browser = chromium(tmp_path / "profile", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
    try:
        with running_server(tmp_path / "server") as server:
            viewport(browser, *DESKTOP)
            wait = open_app(browser, server.url)
            browser.find_element(By.ID, "use-sample").click()
            wait.until(lambda b: b.find_element(By.ID, "portrait-preview").is_displayed())
            choose_128_px_and_consent(browser)
            browser.find_element(By.ID, "live-start").click()
            wait.until(lambda b: b.execute_script("return document.getElementById('live-frame').naturalWidth") == 128)
            first = browser.find_element(By.ID, "live-frame").get_attribute("src")
            wait.until(lambda b: b.find_element(By.ID, "live-frame").get_attribute("src") != first)  # still streaming
            assert browser.find_element(By.ID, "live-status").text == "Live: speak now."
            assert browser.find_element(By.ID, "live-start").get_attribute("disabled")
            browser.execute_script("document.getElementById('live-frame').scrollIntoView({block: 'center'})")
            browser.save_screenshot(str(screenshot_dir(tmp_path) / "live-on.png"))
            browser.find_element(By.ID, "live-stop").click()
            assert browser.find_element(By.ID, "live-status").text == "Live stopped."
            assert browser.find_element(By.ID, "live-state").text == "Off"
            assert not browser.find_element(By.ID, "live-start").get_attribute("disabled")
            assert browser.find_element(By.ID, "live-stop").get_attribute("disabled")

            click(browser, "input[name=speech-mode][value=record]")
            click(browser, "#record")
            wait.until(lambda b: b.find_element(By.ID, "record").get_attribute("aria-pressed") == "true")
            time.sleep(1.5)
            click(browser, "#record")
            wait.until(lambda b: b.find_element(By.ID, "audio-playback").is_displayed())
            assert browser.find_element(By.ID, "record-status").text.startswith("Recording ready")
            browser.execute_script(WATCH_STATUS)
            click(browser, "#submit")
            wait.until(lambda b: b.execute_script("return document.getElementById('video').readyState >= 2"))
            assert browser.find_element(By.ID, "status").text.startswith("Done")
            assert "recording.webm (done)" in browser.find_element(By.ID, "history").text
            seen = browser.execute_script("return window.statusSeen")
            assert any(s.startswith(("Analysing speech", "Rendering", "Encoding")) for s in seen), seen
    finally:
        browser.quit()
