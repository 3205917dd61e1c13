"""The status page in a real browser: a stakeholder signs in with the link `warroom invite-link`
printed, follows an incident live as the CLI changes it, asks and is answered; nothing kept from
their group reaches the page, not even in a websocket frame; without a valid token, or from
another origin, no data flows. Screenshots at phone and laptop widths go to `artefacts/`."""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, WebSocket

from tests.kit.harness import ZONE, Hub, free_port

LIVE = '#link[data-state="live"]'
PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1280, height=800)


class Watched:
    """A page, and every websocket frame it received."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.frames: list[str] = []
        self.console: list[str] = []
        page.on("websocket", self._socket)
        page.on("console", lambda message: self.console.append(message.text))

    def _socket(self, socket: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            self.frames.append(payload if isinstance(payload, str) else payload.decode())

        socket.on("framereceived", received)

    def text(self) -> str:
        """Everything the document holds, shown or not."""
        return str(self.page.content())


def _link(hub: Hub, name: str, *options: str) -> str:
    link = hub.ok("invite-link", name, *options, "--db", str(hub.db)).strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:{hub.port}/#token=wr_[\w-]+", link), link
    return link


def _open(context: BrowserContext, link: str) -> Watched:
    watched = Watched(context.new_page())
    watched.page.goto(link)
    watched.page.wait_for_selector(LIVE, timeout=10_000)
    return watched


def _declare(hub: Hub, title: str, *options: str) -> str:
    return hub.ok("declare", title, "--severity", "1", *options).strip().split()[0]


def _carol_and_an_incident(hub: Hub) -> tuple[str, str]:
    """Carol's (exec) sign-in link and a SEV1 incident with an impact, an ETA, a workaround
    and an alert addressed to her, beside a SEV2 one on another application."""
    link = _link(hub, "carol", "--group", "exec")
    incident = _declare(hub, "Checkout failing in EU", "--app", "checkout", "--app", "payments")
    _declare(hub, "Search is slow", "--app", "search", "--severity", "2")
    hub.ok("impact", incident, "EU customers cannot pay by card", "--audience", "all")
    hub.ok("eta", incident, "+45m", "--confidence", "medium")
    hub.ok("mitigate", incident, "Ask customers to pay by PayPal", "--audience", "exec")
    hub.ok("publish", incident, "--audience", "exec", "--alert", "--summary", "We are on it")
    return link, incident


def test_a_stakeholder_follows_an_update_live_asks_and_is_answered(
    hub: Hub, context: BrowserContext, artefacts: Path
) -> None:
    link, incident = _carol_and_an_incident(hub)

    watched = _open(context, link)
    page = watched.page
    # The token left the address bar for the tab's session storage.
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('warroom.token')") == link.split("=", 1)[1]
    assert page.locator("#who").inner_text() == "carol (stakeholder · exec)"
    assert page.locator("#zone").inner_text() == ZONE
    # Open first, the worst first; filtered by application and by severity.
    titles = page.locator("#incidents .item-title").all_inner_texts()
    assert titles == ["Checkout failing in EU", "Search is slow"]
    page.select_option("#filter-app", "search")
    assert page.locator("#incidents .item-title").all_inner_texts() == ["Search is slow"]
    page.select_option("#filter-app", "")
    page.select_option("#filter-severity", "SEV2")
    assert page.locator("#incidents .item-title").all_inner_texts() == ["Search is slow"]
    page.select_option("#filter-severity", "")

    page.click(f"#incidents a[data-id='{incident}']")
    assert page.locator("#incident-title").inner_text() == "Checkout failing in EU"
    assert page.locator("#i-severity").inner_text() == "SEV1"
    assert page.locator("#i-status").inner_text() == "investigating"
    assert "EU customers cannot pay by card" in page.locator("#i-impact").inner_text()
    assert "medium confidence" in page.locator("#i-eta").inner_text()
    assert "Ask customers to pay by PayPal" in page.locator("#i-workarounds").inner_text()
    assert "We are on it" in page.locator("#i-updates").inner_text()
    assert page.locator("#i-next time").count() == 1
    page.evaluate("window.loadedOnce = true")

    # An update published from the CLI appears within a second, without a reload, newest first.
    summary = "Card payments restored for 80% of customers"
    hub.ok("status", incident, "identified")
    hub.ok("publish", incident, "--audience", "exec", "--summary", summary)
    published = time.monotonic()
    page.locator("#i-updates li").first.get_by_text(summary).wait_for(timeout=1_000)
    assert time.monotonic() - published < 1.0
    assert page.locator("#i-status").inner_text() == "identified"
    assert page.evaluate("window.loadedOnce") is True

    # A question goes to the incident manager's queue; the answer comes back to the page.
    question = "Should the shops switch to the backup terminals?"
    page.fill("#ask-text", question)
    page.click("#ask button[type=submit]")
    page.locator("#ask-state[data-state=sent]").wait_for(timeout=5_000)
    assert page.locator("#ask-text").input_value() == ""
    page.locator("#i-questions").get_by_text(question).wait_for(timeout=2_000)
    assert "Waiting for an answer" in page.locator("#i-questions").inner_text()
    queue = hub.ok("questions", incident)
    assert question in queue and "Q1" in queue
    answer = "Yes, until 14:00: the backup terminals take cards"
    hub.ok("answer", incident, "Q1", answer)
    page.locator("#i-questions .answer").get_by_text(answer).wait_for(timeout=2_000)

    page.screenshot(path=str(artefacts / "laptop-incident.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artefacts / "phone-incident.png"), full_page=True)
    page.click(".back a")
    page.locator("#incidents").wait_for()
    assert page.locator("#incident").is_hidden()
    page.screenshot(path=str(artefacts / "phone-list.png"), full_page=True)
    page.set_viewport_size(LAPTOP)
    page.screenshot(path=str(artefacts / "laptop-list.png"), full_page=True)


CANARY = "CANARY"


def test_an_exec_page_never_holds_a_support_only_or_internal_canary(
    hub: Hub, context: BrowserContext
) -> None:
    link = _link(hub, "carol", "--group", "exec")
    sam = hub.user_add("sam", "stakeholder", "support")
    incident = _declare(hub, "Checkout failing in EU", "--app", "checkout")

    def canaries(round: str) -> None:
        hub.ok("note", incident, f"{CANARY}-{round}-internal-note")
        hub.ok("action", incident, f"{CANARY}-{round}-internal-action")
        hub.ok("mitigate", incident, f"{CANARY}-{round}-support-fix", "--audience", "support")
        hub.ok("impact", incident, f"{CANARY}-{round}-support-impact", "--audience", "support")
        hub.ok("publish", incident, "--audience", "support", "--summary", f"{CANARY}-{round}-su")
        hub.ok("ask", incident, f"{CANARY}-{round}-support-question", token=sam)
        hub.ok("declare", f"{CANARY}-{round}-private", "--severity", "1", "--private")

    canaries("past")  # caught up on connecting
    hub.ok("publish", incident, "--audience", "exec", "--summary", "exec-visible-1")
    watched = _open(context, link)
    page = watched.page
    page.click(f"#incidents a[data-id='{incident}']")
    page.get_by_text("exec-visible-1").wait_for(timeout=2_000)
    canaries("live")  # streamed while the page is open
    hub.ok("answer", incident, "Q2", f"{CANARY}-answer-to-support")
    hub.ok("publish", incident, "--audience", "exec", "--summary", "exec-visible-2")
    page.get_by_text("exec-visible-2").wait_for(timeout=2_000)

    # Welcome, the declaration, both updates to exec, synced: all the page may receive. The past
    # came many events to a frame, and the page showed what the batch held.
    batches = [frame for frame in watched.frames if frame.startswith('{"type":"events"')]
    assert any("exec-visible-1" in frame for frame in batches)
    assert any("exec-visible-2" in frame for frame in watched.frames)
    leaked = [frame for frame in watched.frames if CANARY in frame]
    assert not leaked, leaked
    assert CANARY not in watched.text()
    assert page.locator("#incidents .item").count() == 1


def test_a_forged_or_missing_token_gets_no_data(hub: Hub, context: BrowserContext) -> None:
    _declare(hub, "Checkout failing in EU")
    page_url = f"http://127.0.0.1:{hub.port}/"

    missing = Watched(context.new_page())
    missing.page.goto(page_url)
    missing.page.locator("#signin").wait_for()
    assert missing.page.locator("#board").is_hidden()

    forged = Watched(context.new_page())
    forged.page.goto(f"{page_url}#token=wr_{'A' * 43}")
    forged.page.get_by_text("did not accept this sign-in").wait_for(timeout=5_000)
    assert "token" not in forged.page.url
    assert forged.page.locator("#board").is_hidden()

    for watched in (missing, forged):
        assert watched.frames == []
        assert "Checkout failing" not in watched.text()


def test_a_sign_in_tells_a_hub_that_is_down_from_a_token_it_refuses(
    hub: Hub, context: BrowserContext
) -> None:
    token = _link(hub, "carol", "--group", "exec").split("=", 1)[1]
    _declare(hub, "Checkout failing in EU")
    page = Watched(context.new_page()).page
    page.goto(f"http://127.0.0.1:{hub.port}/")
    page.locator("#signin").wait_for()

    # A refused token while the hub is up: sign in again, no endless reconnecting.
    page.fill("#token", f"wr_{'B' * 43}")
    page.click("#signin-form button[type=submit]")
    page.get_by_text("The war room is up but did not accept this sign-in").wait_for(timeout=5_000)
    assert page.locator('#link[data-state="down"]').inner_text() == "Not signed in"

    # The right token while the hub is down: it says so, and signs in once the hub is back.
    assert hub.stop() == 0
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")
    down = page.locator('#link[data-state="down"]')
    down.get_by_text("The war room cannot be reached.").wait_for(timeout=5_000)
    reason = page.locator("#signin-reason").inner_text()
    assert reason.startswith("The war room cannot be reached right now"), reason
    hub.start(hub.port)
    page.wait_for_selector(LIVE, timeout=20_000)
    page.locator("#incidents").get_by_text("Checkout failing in EU").wait_for(timeout=5_000)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[str]:
    """A web server on another port of 127.0.0.1, serving whatever `page.html` holds."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test's output is not the place for its access log

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_of_another_origin_cannot_open_the_socket(
    hub: Hub, context: BrowserContext, elsewhere: str, tmp_path: Path
) -> None:
    _declare(hub, "Checkout failing in EU")
    # Even with a valid token (stolen, say), a page the hub did not serve is refused.
    token = hub.user_add("carol", "stakeholder", "exec")
    script = (
        "window.outcome = new Promise((done) => {"
        f"  const socket = new WebSocket('ws://127.0.0.1:{hub.port}/', "
        f"    ['warroom.v1', 'bearer.{token}']);"
        "  socket.onopen = () => done('open');"
        "  socket.onclose = (closed) => done('closed ' + closed.code);"
        "});"
    )
    (tmp_path / "elsewhere" / "page.html").write_text(f"<!doctype html><script>{script}</script>")
    watched = Watched(context.new_page())
    watched.page.goto(f"{elsewhere}/page.html")
    assert watched.page.evaluate("window.outcome") == "closed 1006"
    assert watched.frames == []
    assert any("403" in line for line in watched.console), watched.console


def test_a_lost_connection_says_so_and_resumes(hub: Hub, context: BrowserContext) -> None:
    link = _link(hub, "carol", "--group", "exec")
    incident = _declare(hub, "Checkout failing in EU")
    watched = _open(context, link)
    page = watched.page
    page.click(f"#incidents a[data-id='{incident}']")
    assert hub.stop() == 0
    page.locator('#link[data-state="down"]').get_by_text("Connection lost").wait_for()
    hub.start(hub.port)
    page.wait_for_selector(LIVE, timeout=20_000)
    hub.ok("publish", incident, "--audience", "exec", "--summary", "Back after the restart")
    page.get_by_text("Back after the restart").wait_for(timeout=2_000)
    assert page.locator("#i-updates li").count() == 1


def test_internal_users_read_the_page_without_the_ask_box(
    hub: Hub, context: BrowserContext
) -> None:
    link = _link(hub, "oscar", "--role", "observer")
    incident = _declare(hub, "Checkout failing in EU")
    hub.ok("impact", incident, "Internal only: card processor down")
    watched = _open(context, link)
    page = watched.page
    page.click(f"#incidents a[data-id='{incident}']")
    assert "card processor down" in page.locator("#i-impact").inner_text()
    assert page.locator("#ask").is_hidden()
    assert page.locator("#who").inner_text() == "oscar (observer)"


CONTRAST = """() => {
  // Every element showing text of its own: its colour against the background it is drawn on
  // (the nearest ancestor's opaque background, translucent ones blended over it), as WCAG 2
  // defines the ratio; large text (24px, or 18.66px bold) needs 3, the rest 4.5.
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const blend = (top, bottom) => [0, 1, 2].map(
    (i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = blend(layer, result);
    return result;
  };
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const found = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (!own || !element.checkVisibility() || box.width === 0 || box.height === 0) continue;
    const back = background(element);
    const ink = blend(parse(style.color), back);
    const [light, dark] = [luminance(ink), luminance(back)].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    found.push({
      text: element.textContent.trim().slice(0, 40), ratio, needed: large ? 3 : 4.5,
    });
  }
  return found;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_on_the_page_meets_the_contrast_ratio(
    hub: Hub, context: BrowserContext, scheme: str
) -> None:
    link, incident = _carol_and_an_incident(hub)
    watched = _open(context, link)
    page = watched.page
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    seen: list[dict[str, object]] = page.evaluate(CONTRAST)
    page.click(f"#incidents a[data-id='{incident}']")
    page.fill("#ask-text", "Is the EU store affected?")
    page.click("#ask button[type=submit]")
    page.locator("#ask-state[data-state=sent]").wait_for(timeout=5_000)
    seen += page.evaluate(CONTRAST)
    assert len(seen) >= 20, f"too little text measured: {seen}"
    low = [item for item in seen if float(str(item["ratio"])) < float(str(item["needed"]))]
    assert not low, f"text below its contrast ratio in the {scheme} scheme: {low}"
