// The gallery: classes with example counts and a few thumbnails; add a class, append examples,
// remove an example or a class. Errors (a bad file: its name and reason) show in place.
import { el, getJson, mutate, showStatus, thumbnailUrl } from "./api.js";
import { messageOf } from "./search.js";

const PER_CLASS = 4;
const $ = (id) => document.getElementById(id);

let afterChange = () => {};

export function initGallery(onChange) {
  afterChange = onChange;
  $("add-class-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("new-class-name").value.trim();
    const files = [...$("new-class-files").files];
    if (!name || files.length === 0) return;
    const ok = await change("POST", `/class/add/${encodeURIComponent(name)}`, files);
    if (ok) event.target.reset();
  });
}

export async function loadGallery() {
  const list = $("classes");
  try {
    const info = await getJson("/model/info");
    const names = Object.keys(info.classes || {}).sort();
    const cards = await Promise.all(names.map((name) => classCard(name, info.classes[name])));
    list.replaceChildren(...cards);
    if (names.length === 0) list.replaceChildren(el("li", { class: "empty" }, "no classes yet"));
  } catch (error) {
    showStatus($("gallery-status"), messageOf(error), true);
  }
}

async function classCard(name, count) {
  const page = await getJson(`/images?product_id=${encodeURIComponent(name)}&limit=${PER_CLASS}`);
  const thumbs = page.images.map((image) =>
    el(
      "li",
      { "data-image-id": image.id },
      el("img", { src: thumbnailUrl(image.id, 160), alt: `${name} example ${image.id}` }),
      image.source === "catalogue"
        ? null
        : el(
            "button",
            {
              type: "button",
              class: "remove-example",
              "aria-label": `remove example ${image.id} of ${name}`,
              onclick: () => mutateAndReport("DELETE", "/examples", [image.id]),
            },
            "×",
          ),
    ),
  );
  const inputId = `append-${name}`;
  const input = el("input", { id: inputId, type: "file", accept: "image/*", multiple: true });
  input.addEventListener("change", () => {
    const files = [...input.files];
    if (files.length) change("POST", `/class/update/${encodeURIComponent(name)}?append=true`, files);
  });
  return el(
    "li",
    { class: "class-card", "data-class": name },
    el("h3", {}, name, " ", el("span", { class: "count" }, `${count} example${count === 1 ? "" : "s"}`)),
    el("ul", { class: "grid thumbs" }, thumbs),
    el(
      "div",
      { class: "actions" },
      el("label", { for: inputId }, "Add examples"),
      input,
      el(
        "button",
        {
          type: "button",
          "aria-label": `remove class ${name}`,
          onclick: () => mutateAndReport("DELETE", `/class/${encodeURIComponent(name)}`),
        },
        "Remove class",
      ),
    ),
  );
}

async function change(method, url, files) {
  const form = new FormData();
  files.forEach((file) => form.append("files", file));
  return mutateAndReport(method, url, form);
}

async function mutateAndReport(method, url, body) {
  const status = $("gallery-status");
  showStatus(status, "working…");
  try {
    const answer = await mutate(method, url, body);
    const skipped = answer.skipped || [];
    const lines = [answer.message || "done"];
    skipped.forEach((s) => lines.push(`skipped ${s.file}: ${s.reason}`));
    status.replaceChildren(...lines.map((line) => el("div", {}, line)));
    status.classList.toggle("error", skipped.length > 0);
    await loadGallery();
    afterChange();
    return true;
  } catch (error) {
    showStatus(status, messageOf(error), true);
    return false;
  }
}
