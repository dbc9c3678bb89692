"""The web page in a real browser (Debian's Chromium) over real photos and the real model."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.api.web.conftest import CATALOGUE_CLASSES, CATALOGUE_OBJECTS, eth80_photo

pytestmark = pytest.mark.slow

NATURAL_WIDTHS = """els => Promise.all(els.map(img => img.complete && img.naturalWidth
    ? img.naturalWidth
    : new Promise(ok => {
        img.onload = () => ok(img.naturalWidth);
        img.onerror = () => ok(0);
      })))"""


def _search(page, photo) -> list[str]:
    page.locator("#query-file").set_input_files(str(photo))
    expect(page.locator("#search-status")).to_contain_text(f"results for {photo.name}")
    return page.locator("#results [data-product-id]").evaluate_all(
        "els => els.map(e => e.dataset.productId)"
    )


def test_photo_search_ranks_its_class_first_with_thumbnails(world, watched):
    url, _ = world
    page = watched.page
    page.goto(url)
    page.locator("#k").fill("6")
    unseen = CATALOGUE_OBJECTS  # an object of each class that is not in the catalogue
    firsts = {}
    for kind in CATALOGUE_CLASSES:
        products = _search(page, eth80_photo(kind, unseen, 7))
        assert len(products) == 6
        firsts[kind] = products[0]
        widths = page.locator("#results [data-product-id] img").evaluate_all(NATURAL_WIDTHS)
        assert len(widths) == 6 and all(w > 0 for w in widths), widths
    right = [kind for kind, first in firsts.items() if first == kind]
    assert len(right) >= 3, f"first result per query class: {firsts}"
    # "what is it": classification by retrieval of the last query, beside the results
    expect(page.locator("#what-class")).to_contain_text(CATALOGUE_CLASSES[-1])
    # an image-only model: the text box says why it is off
    expect(page.locator("#text-query")).to_be_disabled()
    expect(page.locator("#text-reason")).to_have_text("the current model is image-only")


def test_rank_order_and_more_like_this(world, watched):
    url, _ = world
    page = watched.page
    page.goto(url)
    _search(page, eth80_photo("car", CATALOGUE_OBJECTS, 3))
    ranks = page.locator("#results .rank").all_inner_texts()
    assert ranks == [f"#{i}" for i in range(1, len(ranks) + 1)]
    scores = [float(s) for s in page.locator("#results .score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    page.locator("#results .hit").nth(1).get_by_role("button", name="More like this").click()
    expect(page.locator("#refine-text")).to_contain_text("more like")
    expect(page.locator("#search-status")).to_contain_text("results for")
    page.locator("#results .hit").first.get_by_role("button", name="Good").click()
    expect(page.locator("#results .hit").first.locator(".verdict")).to_have_text("marked good")


def test_adding_a_class_shows_it_in_gallery_and_predictions(world, watched):
    url, _ = world
    page = watched.page
    page.goto(url)
    expect(page.locator(".class-card")).to_have_count(len(CATALOGUE_CLASSES))
    page.get_by_label("New class name").fill("tomato")
    examples = [str(eth80_photo("tomato", obj, view)) for obj in (0, 1) for view in (1, 5, 9)]
    page.get_by_label("Example photos").set_input_files(examples)
    page.get_by_role("button", name="Add class").click()
    expect(page.locator("#gallery-status")).to_contain_text("'tomato'")
    card = page.locator('.class-card[data-class="tomato"]')
    expect(card.locator(".count")).to_have_text("6 examples")
    widths = card.locator("img").evaluate_all(NATURAL_WIDTHS)
    assert len(widths) == 4 and all(w > 0 for w in widths)

    _search(page, eth80_photo("tomato", 2, 7))
    expect(page.locator("#what-class")).to_contain_text("tomato")

    # append an example, remove one, then remove the class: each shows in place
    card.get_by_label("Add examples").set_input_files(str(eth80_photo("tomato", 3, 1)))
    expect(card.locator(".count")).to_have_text("7 examples")
    card.get_by_role("button", name="remove example").first.click()
    expect(card.locator(".count")).to_have_text("6 examples")
    card.get_by_role("button", name="remove class tomato").click()
    expect(page.locator('.class-card[data-class="tomato"]')).to_have_count(0)


def test_corrupt_upload_shows_its_reason(world, watched):
    url, _ = world
    page = watched.page
    watched.allow(r"Failed to load resource: the server responded with a status of 4\d\d")
    page.goto(url)
    broken = {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xffnot really"}
    page.locator("#query-file").set_input_files(broken)
    status = page.locator("#search-status")
    expect(status).to_contain_text("broken.jpg")
    expect(status).to_contain_text("corrupt")
    expect(status).to_have_class("status error")

    page.get_by_label("New class name").fill("mixed")
    photo = eth80_photo("cow", 0, 1)
    good = {"name": photo.name, "mimeType": "image/jpeg", "buffer": photo.read_bytes()}
    text = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}
    page.get_by_label("Example photos").set_input_files([good, text])
    page.get_by_role("button", name="Add class").click()
    expect(page.locator("#gallery-status")).to_contain_text("skipped notes.txt: not an image")
    expect(page.locator('.class-card[data-class="mixed"] .count')).to_have_text("1 example")


def test_rebuild_button_shows_progress_and_report(world, watched):
    url, _ = world
    page = watched.page
    page.goto(url)
    expect(page.locator("#stats")).to_contain_text("efficientnet-lite0")
    page.get_by_role("button", name="Rebuild").click()
    expect(page.locator("#rebuild-status")).to_contain_text("rebuild done")
    expect(page.locator("#rebuild-progress")).to_have_js_property("value", 1)
    expect(page.locator("#rebuild-summary")).to_contain_text("24 scanned")
    page.reload()  # the last report comes back from the jobs API
    expect(page.locator("#rebuild-summary")).to_contain_text("24 scanned")


def test_phone_width_reflows_without_sideways_scrolling(world, browser):
    url, _ = world
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    page = context.new_page()
    page.goto(url)
    _search(page, eth80_photo("cup", CATALOGUE_OBJECTS, 7))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    boxes = [page.locator("#results .hit").nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["width"] < 375 and len({b["x"] for b in boxes}) <= 2  # 2 columns at most
    context.close()


DROP = """([zone, bytes, name]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], name, { type: "image/jpeg" }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
}"""
UNLABELLED = """els => els.filter(e => !(e.labels && e.labels.length)
    && !e.getAttribute("aria-label") && !e.textContent.trim()).map(e => e.outerHTML)"""


def test_dropping_a_photo_searches_and_every_control_has_a_label(world, watched):
    url, _ = world
    page = watched.page
    page.goto(url)
    expect(page.locator(".class-card").first).to_be_visible()
    photo = eth80_photo("apple", CATALOGUE_OBJECTS, 11)
    zone = page.locator("#drop-zone").element_handle()
    page.evaluate(DROP, [zone, list(photo.read_bytes()), photo.name])
    expect(page.locator("#search-status")).to_contain_text(f"results for {photo.name}")
    assert page.locator("#results [data-product-id]").count() > 0
    controls = page.locator("input, button").evaluate_all(UNLABELLED)
    assert controls == [], "controls without a label"
    page.keyboard.press("Tab")  # the page is reachable from the keyboard
    assert page.evaluate("document.activeElement.tagName") in ("A", "INPUT", "BUTTON")
