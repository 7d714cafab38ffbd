"""The web chat in a real headless Chromium (Debian's chromium + chromium-driver)."""
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=390,844", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def wait(browser, timeout=60):
    return WebDriverWait(browser, timeout)


def bot_texts(browser):
    return [b.text for b in browser.find_elements(By.CSS_SELECTOR, ".msg.bot .bubble") if b.text]


def test_question_gets_cited_answer_and_quick_reply_works(services, browser):
    browser.get(services.service_url + "/")
    # the greeting arrives with quick-reply chips
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".chip"))
    box = browser.find_element(By.ID, "text")
    box.send_keys("创业担保贷款最多能贷多少？")
    browser.find_element(By.ID, "send").click()
    card = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "details.card")))
    assert "（一）" in card.text
    assert any("20万" in text for text in bot_texts(browser))
    card.click()  # expand the clause card
    assert card.get_attribute("open") is not None
    assert not browser.find_element(By.ID, "typing").is_displayed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "web-chat.png"))

    answered = len(bot_texts(browser))
    chip = browser.find_elements(By.CSS_SELECTOR, ".chip:not([disabled])")[-1]  # feedback: 没帮助 / 有帮助
    chip.click()
    wait(browser).until(lambda b: len(bot_texts(b)) > answered)
    browser.save_screenshot(str(ARTIFACTS / "web-chat-after-quick-reply.png"))
    assert (ARTIFACTS / "web-chat.png").stat().st_size > 10_000


def test_sender_id_and_transcript_persist_across_reloads(services, browser):
    browser.get(services.service_url + "/")
    first = browser.execute_script("return localStorage.getItem('policy-chat-sender')")
    shown = browser.find_element(By.ID, "log").text
    browser.refresh()
    assert browser.execute_script("return localStorage.getItem('policy-chat-sender')") == first
    assert "创业担保贷款最多能贷多少？" in shown
    wait(browser).until(lambda b: "创业担保贷款最多能贷多少？" in b.find_element(By.ID, "log").text)


def test_handoff_button_shows_transfer_notice(services, browser):
    browser.get(services.service_url + "/")
    browser.find_element(By.ID, "handoff").click()
    wait(browser).until(lambda b: "已为您转接人工客服" in b.find_element(By.ID, "log").text)
