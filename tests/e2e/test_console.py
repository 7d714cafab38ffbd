"""The hotline agent console and the live handoff, in real headless Chromium against the real services.

One browser is the agent (desktop window), another the citizen in the web chat (phone-sized window).
Screenshots go to var/artifacts/; the README's docs/console-*.png are rewritten with UPDATE_DOCS_SCREENSHOTS=1.
"""
import os
import secrets
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from service import identity

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "var" / "artifacts"
DOCS = PROJECT / "docs"
README_SHOTS = {"console-search.png", "console-calculator.png", "console-queue.png"}  # the README shows these
LOAN_QUESTION = "创业担保贷款最多能贷多少？"
FEEDBACK_PROMPT = "这个回答对您有帮助吗"
AGENT_PASSWORD: list = []
WRONG_PASSWORD = "li-typo-" + secrets.token_hex(4)


def chromium(profile: Path, size: str):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--window-size={size}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


@pytest.fixture(scope="module")
def agent(services, tmp_path_factory):
    """An agent's browser, logged in through the login form."""
    password, _ = services.add_user("li.agent", "agent")
    AGENT_PASSWORD[:] = [password]
    driver = chromium(tmp_path_factory.mktemp("agent-chromium"), "1500,1000")
    driver.execute_cdp_cmd("Browser.grantPermissions", {  # as an agent allows the console to use the clipboard
        "origin": services.service_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    driver.get(services.service_url + "/console")
    wait(driver).until(EC.presence_of_element_located((By.ID, "username")))  # redirected to the login page
    assert "/login" in driver.current_url
    driver.find_element(By.ID, "username").send_keys("li.agent")
    driver.find_element(By.ID, "password").send_keys(WRONG_PASSWORD)  # a typo first: refused, and never logged
    driver.find_element(By.ID, "login").click()
    wait(driver).until(lambda d: "用户名或密码不正确" in d.find_element(By.TAG_NAME, "body").text)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    wait(driver).until(lambda d: "li.agent" in d.find_element(By.ID, "who").text)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def citizen(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("citizen-chromium"), "390,844")
    yield driver
    driver.quit()


def wait(driver, timeout=60):
    # a page that re-renders (login → app) replaces elements mid-check: look again, don't fail
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def save(driver, name: str) -> None:
    """Every run: var/artifacts/. The README's docs/console-*.png only when asked to (the page changed):
    UPDATE_DOCS_SCREENSHOTS=1 .venv/app/bin/python -m pytest tests/e2e/test_console.py."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" and name in README_SHOTS:
        driver.save_screenshot(str(DOCS / name))


def bot_answer_texts(services, question: str) -> list[str]:
    """What the real bot sends a new conversation for `question` through the REST channel: its answer
    messages, without the 有帮助/没帮助 prompt that follows them."""
    sender = "console-compare-" + secrets.token_hex(4)
    return [m["text"] for m in services.say(sender, question, timeout=60)
            if m.get("text") and not m["text"].startswith(FEEDBACK_PROMPT)]


def clipboard(driver) -> str:
    return driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], function (e) { arguments[0]('clipboard: ' + e); });")


def test_agent_searches_and_copies_the_bots_answer(services, agent):
    box = agent.find_element(By.ID, "search-box")
    box.clear()
    for character in "反担保":  # typed, not pasted: the cards follow the keystrokes
        box.send_keys(character)
    card = wait(agent).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "#results .card[data-clause-id='baoji-2020-49:2.1']")))
    assert card.find_element(By.CSS_SELECTOR, ".loc").text == "二、（一）"
    assert "宝政办发〔2020〕49号" in card.text and "现行有效" in card.text and "相关度" in card.text
    assert "反担保" in [mark.text for mark in card.find_elements(By.TAG_NAME, "mark")]
    agent.find_element(By.ID, "copy-answer").click()
    preview = wait(agent).until(EC.visibility_of_element_located((By.ID, "copy-preview")))
    bot_sends = "\n\n".join(bot_answer_texts(services, "反担保"))
    assert "宝政办发〔2020〕49号" in bot_sends and "反担保" in bot_sends
    wait(agent).until(lambda d: preview.text.strip() == bot_sends.strip())
    assert clipboard(agent) == bot_sends  # what lands in the clipboard is what the bot sends, character for character
    assert "已复制到剪贴板" in agent.find_element(By.ID, "copy-note").text
    agent.execute_script("window.scrollTo(0, 0)")
    save(agent, "console-search.png")
    card.find_element(By.CSS_SELECTOR, ".open-article").click()
    article = wait(agent).until(EC.visibility_of_element_located((By.ID, "article")))
    assert "（一）" in article.text and "创业担保贷款" in article.text
    assert "优化贷款税收等政策支持个体经营发展" in article.text and "下一条" in article.text
    save(agent, "console-article.png")


def test_agent_runs_the_calculator(agent):
    agent.find_element(By.ID, "tab-calc").click()
    wait(agent).until(EC.visibility_of_element_located((By.ID, "fact-age"))).send_keys("34")
    agent.find_element(By.ID, "groups-migrant_worker").click()
    agent.find_element(By.ID, "activities-self_employed").click()
    agent.find_element(By.ID, "calc-run").click()
    summary = wait(agent).until(EC.visibility_of_element_located((By.ID, "calc-summary")))
    results = agent.find_element(By.ID, "calc-result").text
    for amount in ("5000", "20万", "300万"):
        assert amount in results and amount in summary.text
    assert "34" in summary.text and "农民工" in summary.text
    agent.find_element(By.ID, "calc-copy").click()
    wait(agent, 10).until(lambda d: clipboard(d) == summary.get_attribute("textContent"))  # the caller's summary
    save(agent, "console-calculator.png")
    agent.find_element(By.ID, "tab-search").click()


def citizen_bot_texts(citizen):
    return [bubble.text for bubble in citizen.find_elements(By.CSS_SELECTOR, ".msg.bot .bubble") if bubble.text]


def chat_idle(citizen):
    return not citizen.find_element(By.ID, "typing").is_displayed() and \
        citizen.find_element(By.ID, "send").is_enabled()


def web_chat_sender(services, browser) -> str:
    """The Rasa sender of a browser's web chat: "web:" + the id in its server-signed cookie."""
    cookie = wait(browser).until(lambda d: d.get_cookie("policy_chat"))["value"]
    return "web:" + identity.verified_id(identity.load_secret(services.var_dir), cookie)


def test_live_handoff_in_the_web_chat(services, agent, citizen):
    _, reader = services.add_user("queue-reader", "agent")
    citizen.get(services.service_url + "/")
    wait(citizen).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".chip"))
    sender = web_chat_sender(services, citizen)
    citizen.find_element(By.ID, "text").send_keys("转人工")
    citizen.find_element(By.ID, "send").click()
    wait(citizen).until(lambda d: "排队" in d.find_element(By.ID, "log").text)

    # the conversation appears in the agent's queue; the agent opens and claims it
    item = wait(agent).until(lambda d: next((li for li in d.find_elements(By.CSS_SELECTOR, "#queue li")
                                             if li.get_attribute("data-id") and conversation_of(services, reader, li) == sender),
                                            None))
    item.click()
    wait(agent).until(EC.element_to_be_clickable((By.ID, "claim"))).click()
    wait(agent).until(lambda d: d.find_element(By.ID, "reply-text").is_enabled())
    agent.find_element(By.ID, "reply-text").send_keys("您好，我是人工客服小李，请问有什么可以帮您？")
    agent.find_element(By.ID, "reply-send").click()

    # the citizen sees the reply marked 人工客服
    agent_row = wait(citizen).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".msg.agent")))
    assert "人工客服" in agent_row.text and "小李" in agent_row.text

    # the citizen's question reaches the agent, and the bot stays quiet
    answered = len(citizen_bot_texts(citizen))
    citizen.find_element(By.ID, "text").send_keys(LOAN_QUESTION)
    citizen.find_element(By.ID, "send").click()
    wait(citizen).until(lambda d: LOAN_QUESTION in d.find_element(By.ID, "log").text and chat_idle(d))
    wait(agent).until(lambda d: LOAN_QUESTION in d.find_element(By.ID, "transcript").text)
    assert len(citizen_bot_texts(citizen)) == answered  # the /api/chat reply came back empty
    assert services.bot_said_after(sender, LOAN_QUESTION) == []  # logged for the agent, unanswered by the bot
    wait(agent).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#suggestions .card[data-clause-id='baoji-2020-49:2.1']"))
    wait(agent).until(EC.element_to_be_clickable((By.ID, "suggest-copy"))).click()
    suggested = wait(agent).until(EC.visibility_of_element_located((By.ID, "suggest-copy-preview")))
    wait(agent).until(lambda d: "20万" in suggested.text and "宝政办发〔2020〕49号" in suggested.text)
    save(agent, "console-queue.png")
    save(citizen, "web-chat-agent.png")

    # resolve: the bot takes over again with a notice and answers the next question
    agent.find_element(By.ID, "resolve").click()
    wait(citizen).until(lambda d: any("智能助手" in text for text in citizen_bot_texts(d)))
    before = len(citizen_bot_texts(citizen))
    citizen.find_element(By.ID, "text").send_keys(LOAN_QUESTION)
    citizen.find_element(By.ID, "send").click()
    wait(citizen).until(lambda d: len(citizen_bot_texts(d)) > before and any("20万" in t for t in citizen_bot_texts(d)[before:]))

    # Rasa's tracker store: between the pause (claim) and the resume, every bot line is the agent's
    held = services.lines_while_held(sender)
    assert ("user", LOAN_QUESTION) in held
    assert [line for line in held if line[0] == "bot"] == [("bot", "li.agent")]
    assert any("20万" in text for text in services.bot_said_after(sender, LOAN_QUESTION))  # the bot is back


def conversation_of(services, headers, item) -> str:
    """The sender id behind a queue entry (the console shows the channel and number, not the id)."""
    detail = requests.get(f"{services.service_url}/api/agent/queue/{item.get_attribute('data-id')}",
                          headers=headers, timeout=10).json()
    return detail["handoff"]["sender_id"]


def test_no_password_or_session_id_in_the_logs(services, agent):
    session_id = agent.get_cookie("policy_session")["value"]
    logs = "\n".join(services.log_tail(name, 100_000) for name in ("service", "rasa", "actions"))
    assert "login failed" in logs and "login: li.agent" in logs  # the service's log is the one read
    for secret in (session_id, AGENT_PASSWORD[0], WRONG_PASSWORD):
        assert secret not in logs


def test_console_needs_login_and_refuses_agents_on_staff_routes(services):
    anonymous = requests.get(f"{services.service_url}/console", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/login")
    _, agent_headers = services.add_user("no-staff", "agent")
    assert requests.get(f"{services.service_url}/api/feedback", headers=agent_headers, timeout=10).status_code == 403
