"""The page with API_KEY set and a text-image model; /docs and /redoc with no internet."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.api.conftest import jpeg

OFFLINE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")
# ReDoc's "API docs by Redocly" footer link has a logo it always loads from its CDN; offline
# the image fails and ReDoc hides it (onError). Nothing else may leave the machine.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_mutations_ask_for_the_key_once_and_401_reads_as_needs_the_key(
    keyed_world, watched, settings
):
    url, key = keyed_world
    page = watched.page
    (settings.products_dir / "red-shoe" / "broken.jpg").write_bytes(b"\xff\xd8\xff cut short")
    watched.allow(r"status of 401")
    page.goto(url)
    expect(page.locator("#stats")).to_contain_text("colour-words")

    # refused: cancel the prompt -> "needs the API key" in place, not a broken page
    page.get_by_role("button", name="Rebuild").click()
    expect(page.locator("#key-dialog")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#rebuild-status")).to_have_text("needs the API key")

    # given once: the action goes through, and later ones do not ask again
    page.get_by_role("button", name="Rebuild").click()
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(page.locator("#rebuild-status")).to_contain_text("rebuild done")
    expect(page.locator("#rebuild-summary")).to_contain_text("1 skipped")
    expect(page.locator("#rebuild-report .skipped")).to_contain_text("broken.jpg: truncated")
    assert page.evaluate("sessionStorage.getItem('img-recog-api-key')") == key
    page.get_by_label("New class name").fill("orange-cap")
    cap = {"name": "cap.jpg", "mimeType": "image/jpeg", "buffer": jpeg((230, 140, 20), 3)}
    page.get_by_label("Example photos").set_input_files([cap])
    page.get_by_role("button", name="Add class").click()
    expect(page.locator('.class-card[data-class="orange-cap"]')).to_have_count(1)
    expect(page.locator("#key-dialog")).to_be_hidden()


def test_text_search_with_a_text_image_model(keyed_world, watched):
    url, _ = keyed_world
    page = watched.page
    page.goto(url)
    box = page.get_by_label("Search by text")
    expect(box).to_be_enabled()
    expect(page.locator("#text-reason")).to_have_text("")
    box.fill("a green hat")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-status")).to_contain_text("results for a green hat")
    first = page.locator("#results [data-product-id]").first
    expect(first).to_have_attribute("data-product-id", "green-hat")


def test_docs_and_redoc_render_without_internet(keyed_world, watched):
    url, _ = keyed_world
    page = watched.page
    outside: list[str] = []

    def block(route):
        outside.append(route.request.url)
        route.abort()

    watched.allow(r"Failed to load resource: net::ERR_FAILED")  # the blocked logo
    page.route(OFFLINE, block)
    page.goto(f"{url}/docs")
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/images/{image_id}/thumbnail")
    page.goto(f"{url}/redoc")
    expect(page.get_by_role("heading", name=re.compile("img-recog")).first).to_be_visible()
    expect(page.locator("body")).to_contain_text("/stats")
    assert [u for u in outside if u != REDOC_LOGO] == [], "the docs tried to reach the internet"


def test_what_is_it_shows_zero_shot_attributes_when_the_model_has_text(keyed_world, watched):
    url, _ = keyed_world
    page = watched.page
    page.goto(url)
    red = {"name": "red.jpg", "mimeType": "image/jpeg", "buffer": jpeg((200, 30, 30), 9)}
    page.locator("#query-file").set_input_files(red)
    what = page.locator("#what-body")
    expect(page.locator("#what-class")).to_contain_text("red-shoe")
    expect(what).to_contain_text("category: shoe (zero-shot)")
    expect(what).to_contain_text("color: red (zero-shot)")
