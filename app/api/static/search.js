// Search by photo or text, "what is it" beside the results, more / less like this, verdicts.
import { ApiError, el, mutate, showStatus, thumbnailUrl } from "./api.js";

const state = { file: null, text: null, more: [], less: [] };
const $ = (id) => document.getElementById(id);

export function initSearch() {
  $("query-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) searchPhoto(file);
  });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) searchPhoto(file);
  });
  $("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text-query").value.trim();
    if (text) searchText(text);
  });
  $("refine-clear").addEventListener("click", () => {
    state.more = [];
    state.less = [];
    runSearch();
  });
}

export function setTextSearch(enabled) {
  $("text-query").disabled = !enabled;
  $("text-go").disabled = !enabled;
  $("text-reason").textContent = enabled ? "" : "the current model is image-only";
}

function searchPhoto(file) {
  Object.assign(state, { file, text: null, more: [], less: [] });
  runSearch();
  classify(file);
}

function searchText(text) {
  Object.assign(state, { file: null, text, more: [], less: [] });
  $("what").hidden = true;
  runSearch();
}

async function runSearch() {
  const status = $("search-status");
  const form = new FormData();
  if (state.file) form.append("file", state.file);
  else form.append("text", state.text);
  form.append("k", String(Math.max(1, Number($("k").value) || 12)));
  state.more.forEach((id) => form.append("more_like", String(id)));
  state.less.forEach((id) => form.append("less_like", String(id)));
  showRefinement();
  showStatus(status, "searching…");
  $("results").replaceChildren();
  try {
    const answer = await mutate("POST", "/search", form);
    showStatus(status, `${answer.hits.length} results for ${answer.query}`);
    $("results").replaceChildren(...answer.hits.map(hitCard));
  } catch (error) {
    showStatus(status, messageOf(error, state.file), true);
  }
}

function hitCard(hit) {
  const card = el(
    "li",
    { class: "hit", "data-product-id": hit.product_id, "data-image-id": hit.image_id },
    el("img", {
      src: thumbnailUrl(hit.image_id),
      alt: `${hit.product_id}, rank ${hit.rank}`,
      loading: "lazy",
    }),
    el(
      "div",
      { class: "caption" },
      el("span", { class: "rank" }, `#${hit.rank}`),
      el("span", { class: "score" }, hit.score.toFixed(3)),
      el("span", { class: "product" }, hit.product_id),
    ),
  );
  const verdict = el("span", { class: "verdict", role: "status" });
  card.append(
    el(
      "div",
      { class: "actions" },
      button("More like this", () => refine(state.more, hit.image_id)),
      button("Less like this", () => refine(state.less, hit.image_id)),
      button("Good", () => judge(hit, "good", verdict)),
      button("Bad", () => judge(hit, "bad", verdict)),
    ),
    verdict,
  );
  return card;
}

function button(label, onclick) {
  return el("button", { type: "button", onclick }, label);
}

function refine(list, imageId) {
  if (!list.includes(imageId)) list.push(imageId);
  runSearch();
}

function showRefinement() {
  const box = $("refine");
  box.hidden = state.more.length === 0 && state.less.length === 0;
  $("refine-text").textContent =
    `refined: more like ${state.more.join(", ") || "-"}; less like ${state.less.join(", ") || "-"}`;
}

async function judge(hit, verdict, out) {
  if (!state.file) {
    showStatus(out, "verdicts need a photo query", true);
    return;
  }
  const form = new FormData();
  form.append("file", state.file);
  form.append("verdict", verdict);
  form.append("product_id", hit.product_id);
  form.append("image_id", String(hit.image_id));
  try {
    await mutate("POST", "/feedback", form);
    showStatus(out, `marked ${verdict}`);
  } catch (error) {
    showStatus(out, messageOf(error), true);
  }
}

async function classify(file) {
  const body = $("what-body");
  $("what").hidden = false;
  body.replaceChildren(el("p", {}, "classifying…"));
  const form = () => {
    const data = new FormData();
    data.append("file", file);
    return data;
  };
  const files = new FormData();
  files.append("files", file);
  const [prediction, classification] = await Promise.allSettled([
    mutate("POST", "/predict", form()),
    mutate("POST", "/classify", files),
  ]);
  body.replaceChildren(
    ...retrievalPart(prediction, file),
    ...attributePart(classification),
  );
}

function retrievalPart(outcome, file) {
  if (outcome.status === "rejected") {
    return [el("p", { class: "error" }, messageOf(outcome.reason, file))];
  }
  const p = outcome.value;
  if (p.unclassifiable || !p.predicted_class) {
    return [el("p", { id: "what-class" }, "unclassifiable: ", p.reason || "no reason given")];
  }
  const top = Object.entries(p.class_probabilities || {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  return [
    el(
      "p",
      { id: "what-class" },
      el("strong", {}, p.predicted_class),
      ` (confidence ${Number(p.confidence).toFixed(2)})`,
    ),
    el("ol", { class: "top" }, top.map(([name, prob]) => el("li", {}, `${name} ${prob.toFixed(2)}`))),
  ];
}

function attributePart(outcome) {
  if (outcome.status === "rejected") return [];
  const result = (outcome.value.results || [])[0];
  if (!result) return [];
  const parts = [];
  const answers = { category: result.category, ...(result.attributes || {}) };
  for (const [name, answer] of Object.entries(answers)) {
    if (!answer) continue;
    const value = answer.value ?? `unsure (${answer.reason || "no reason given"})`;
    parts.push(el("li", {}, `${name}: ${value}`, answer.value ? ` (${answer.source})` : ""));
  }
  const out = parts.length ? [el("h4", {}, "Attributes"), el("ul", {}, parts)] : [];
  for (const note of result.notes || []) out.push(el("p", { class: "note" }, note));
  return out;
}

export function messageOf(error, file) {
  if (error instanceof ApiError) {
    if (error.status === 401) return "needs the API key";
    const where = file && !error.message.includes(file.name) ? `${file.name}: ` : "";
    return `${where}${error.message}`;
  }
  return `the server could not be reached (${error.message})`;
}
