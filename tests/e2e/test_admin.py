"""Policy staff in real headless Chromium against the real services: edit → preview → publish → the bot's
answer and the calculator change → rollback; a .docx upload that the bot then answers from, with its
citation. Every change is undone at the end (the services are shared by the whole e2e session)."""
import os
from pathlib import Path

import pytest
import requests
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.test_console import chromium

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "var" / "artifacts"
DOCS = PROJECT / "docs"  # README's committed screenshots: rewritten only with UPDATE_DOCS_SCREENSHOTS=1
ARTICLE_1 = "baoji-2020-49:2.1"
SUBSIDY_QUESTION = "企业失业人员创业补贴每人多少钱"
NIGHT_MARKET = ["某市人民政府办公室文件", "某政办发〔2026〕7号", "某市人民政府办公室关于试行夜市摊位登记的通知",
                "一、登记办法",
                "（一）夜市摊位实行免费登记。摊主凭身份证在街道办登记，登记有效期至2027年6月30日。（市城市管理执法局负责）",
                "某市人民政府办公室", "2026年1月5日"]


@pytest.fixture(scope="module")
def staff(services, tmp_path_factory):
    """A staff member's browser, logged in through the login form."""
    password, headers = services.add_user("wang.staff", "staff")
    driver = chromium(tmp_path_factory.mktemp("staff-chromium"), "1400,1000")
    driver.get(services.service_url + "/admin")
    wait(driver).until(EC.presence_of_element_located((By.ID, "username")))
    driver.find_element(By.ID, "username").send_keys("wang.staff")
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
    driver.headers = headers
    yield driver
    driver.quit()


def wait(driver, timeout=60):
    # a page that re-renders (login → app) replaces elements mid-check: look again, don't fail
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def go(driver, services, fragment: str):
    driver.get(f"{services.service_url}/admin#{fragment}")
    driver.refresh()  # a new hash alone does not reload; the page routes on load
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")


def click(driver, selector: str):
    element = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    return element


def screenshot(driver, name: str):
    """Every run: var/artifacts/. The README's images in docs/ only when asked to (the page changed):
    UPDATE_DOCS_SCREENSHOTS=1 .venv/app/bin/python -m pytest tests/e2e/test_admin.py."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        driver.save_screenshot(str(DOCS / name))


def bot_says(services, question: str, sender: str) -> str:
    return "\n".join(m.get("text", "") for m in services.say(sender, question, timeout=60))


def startup_amount(services) -> int:
    body = requests.post(services.service_url + "/api/entitlements", timeout=30, json={
        "age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"]}).json()
    return next(e for e in body["entitlements"] if e["id"] == "startup_subsidy")["amount"]


def answer_text(services, question: str) -> str:
    return "\n".join(requests.post(services.service_url + "/api/answer", json={"q": question}, timeout=30).json()["parts"])


def newest_release_live(services, headers) -> bool:
    """Wait until the newest release is live in the service (index swapped, calculator reloaded, answer
    cache emptied): the keeper signals it, nothing polls. The timeout only bounds a broken build."""
    newest = requests.get(services.service_url + "/api/admin/releases", headers=headers, timeout=30).json()
    revision = newest["releases"][0]["revision"]
    return requests.get(services.service_url + "/api/admin/live", headers=headers, timeout=90,
                        params={"revision": revision, "timeout": 60}).json()["live"]


def test_edit_preview_publish_answer_changes_and_rollback(services, staff):
    assert "5000" in bot_says(services, SUBSIDY_QUESTION, "admin-e2e-1") and startup_amount(services) == 5000
    releases = requests.get(services.service_url + "/api/admin/releases", headers=staff.headers).json()["releases"]
    before = releases[0]["id"]

    go(staff, services, f"clause/{ARTICLE_1}")
    text = wait(staff).until(EC.presence_of_element_located((By.ID, "clause-text")))
    edited = text.get_attribute("value").replace("5000元", "6000元")
    text.clear()
    text.send_keys(edited)
    click(staff, "#save-clause")
    wait(staff).until(EC.presence_of_element_located((By.ID, "problems")))
    assert "startup_subsidy.amount" in staff.find_element(By.ID, "problems").text
    assert staff.find_elements(By.CSS_SELECTOR, "#draft ins")  # the diff marks the new text
    click(staff, "#apply-suggestions")
    wait(staff).until(lambda d: "不一致" in d.find_element(By.ID, "problems").text)  # quote 6000, value 5000

    go(staff, services, "parameters")
    row = wait(staff).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "tr[data-parameter='startup_subsidy.amount']")))
    value = row.find_element(By.CSS_SELECTOR, "input[aria-label='数值']")
    value.clear()
    value.send_keys("6000")
    row.find_element(By.TAG_NAME, "button").click()
    wait(staff).until(EC.presence_of_element_located((By.ID, "checks-ok")))
    screenshot(staff, "admin-draft.png")

    click(staff, "#preview-button")
    summary = wait(staff, 300).until(EC.presence_of_element_located((By.ID, "preview-summary")))
    assert "个回答改变" in summary.text
    assert "6000" in staff.find_element(By.ID, "preview-answers").text
    assert "startup" in staff.find_element(By.ID, "preview-entitlements").text or \
        "一次性创业补贴" in staff.find_element(By.ID, "preview-entitlements").text
    screenshot(staff, "admin-preview.png")
    assert "5000" in answer_text(services, SUBSIDY_QUESTION)  # previewing publishes nothing

    click(staff, "#publish-button")
    wait(staff).until(EC.presence_of_element_located((By.ID, "releases")))
    assert newest_release_live(services, staff.headers)
    assert "6000" in answer_text(services, SUBSIDY_QUESTION) and startup_amount(services) == 6000
    assert "6000" in bot_says(services, SUBSIDY_QUESTION, "admin-e2e-2")  # through Rasa and the action server
    screenshot(staff, "admin-releases.png")

    click(staff, f"tr[data-release='{before}'] button")
    staff.switch_to.alert.accept()
    wait(staff).until(lambda d: "已恢复" in d.find_element(By.ID, "flash").text)
    assert newest_release_live(services, staff.headers)
    assert "5000" in answer_text(services, SUBSIDY_QUESTION) and startup_amount(services) == 5000
    assert "5000" in bot_says(services, SUBSIDY_QUESTION, "admin-e2e-3")


def docx_file(tmp_path) -> Path:
    import docx

    document = docx.Document()
    for paragraph in NIGHT_MARKET:
        document.add_paragraph(paragraph)
    path = tmp_path / "night-market.docx"
    document.save(str(path))
    return path


def test_docx_upload_answers_with_its_citation(services, staff, tmp_path):
    go(staff, services, "documents")
    form = wait(staff).until(EC.presence_of_element_located((By.ID, "upload")))
    form.find_element(By.NAME, "doc_id").send_keys("mou-2026-7")
    form.find_element(By.NAME, "file").send_keys(str(docx_file(tmp_path)))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    preview = wait(staff).until(EC.presence_of_element_located((By.ID, "add-document")))
    assert "某政办发〔2026〕7号" in staff.find_element(By.ID, "parsed").text
    screenshot(staff, "admin-upload.png")
    preview.click()
    click(staff, "#publish-button")
    wait(staff).until(EC.presence_of_element_located((By.ID, "releases")))
    question = "夜市摊位登记要交钱吗"
    try:
        assert newest_release_live(services, staff.headers)
        assert "某政办发〔2026〕7号" in answer_text(services, question)
        reply = bot_says(services, question, "admin-e2e-4")
        assert "某政办发〔2026〕7号" in reply and "免费登记" in reply
    finally:
        headers = staff.headers
        draft = requests.post(services.service_url + "/api/admin/drafts", headers=headers, json={"title": "清理"}).json()
        requests.post(f"{services.service_url}/api/admin/drafts/{draft['id']}/documents/mou-2026-7/retire",
                      headers=headers).raise_for_status()
        requests.post(f"{services.service_url}/api/admin/drafts/{draft['id']}/publish", headers=headers).raise_for_status()
        assert newest_release_live(services, headers)  # the next test starts from the services as they were


def test_an_unanswered_question_becomes_a_synonym_in_the_draft(services, staff):
    question = "练摊让不让"  # "练摊" is in no lexicon file
    requests.post(services.service_url + "/api/answer", json={"q": question}, timeout=30).raise_for_status()
    go(staff, services, "insights")
    row = wait(staff).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-question='{question}']")))
    assert row.find_elements(By.CSS_SELECTOR, "a[href^='#clause/']")  # the nearest clauses open from the row
    row.find_element(By.CSS_SELECTOR, "details.lexicon summary").click()
    row.find_element(By.NAME, "key").send_keys("练摊")
    row.find_element(By.NAME, "terms").send_keys("临时摊点 摊位")
    row.find_element(By.CSS_SELECTOR, "form.lexicon-form button").click()
    wait(staff).until(lambda d: "预览并发布后生效" in d.find_element(By.ID, "flash").text)
    screenshot(staff, "admin-insights.png")
    go(staff, services, "drafts")
    change = wait(staff).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".change[data-target='synonym:练摊']")))
    assert "临时摊点" in change.text
    click(staff, "#draft button.danger")  # discard: the shared services stay as they were
    staff.switch_to.alert.accept()
    wait(staff).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".change[data-target='synonym:练摊']"))
    assert requests.get(services.service_url + "/api/search", params={"q": question}, timeout=30).json()["answerable"] \
        is False


def test_admin_needs_a_staff_login(services):
    anonymous = requests.get(services.service_url + "/admin", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/login")
    _, agent = services.add_user("zhao.agent", "agent")
    assert requests.post(services.service_url + "/api/admin/drafts", headers=agent, json={}).status_code == 403
    assert requests.get(services.service_url + "/admin", headers=agent, allow_redirects=False).status_code == 403
