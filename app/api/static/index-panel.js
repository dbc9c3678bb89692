// The index: stats, a rebuild button with a live progress bar (the jobs API), the last report.
import { el, getJson, mutate, showStatus } from "./api.js";
import { messageOf } from "./search.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 400;

export function initIndex(onRebuilt) {
  $("rebuild").addEventListener("click", () => rebuild(onRebuilt));
}

// returns the stats (the page also needs to know whether text search works)
export async function loadStats() {
  const stats = await getJson("/stats");
  const rows = [
    ["images", stats.images],
    ["products", stats.products],
    ["model", stats.model_stamp],
    ["index type", `${stats.index.kind} (${stats.index.size} vectors, ${stats.index.metric})`],
    ["last rebuild", stats.last_rebuild || "never"],
  ];
  $("stats").replaceChildren(...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  return stats;
}

export async function loadLastReport() {
  const { jobs } = await getJson("/jobs?kind=rebuild&limit=1");
  if (jobs.length) showJob(jobs[0]);
}

async function rebuild(onRebuilt) {
  const status = $("rebuild-status");
  $("rebuild").disabled = true;
  try {
    const accepted = await mutate("POST", "/rebuild");
    let job = await getJson(accepted.url);
    while (job.status === "queued" || job.status === "running") {
      showJob(job);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await getJson(accepted.url);
    }
    showJob(job);
    await onRebuilt();
  } catch (error) {
    showStatus(status, messageOf(error), true);
  } finally {
    $("rebuild").disabled = false;
  }
}

function showJob(job) {
  const bar = $("rebuild-progress");
  bar.hidden = false;
  bar.value = job.status === "done" ? 1 : job.progress || 0;
  const counts = job.total ? ` ${job.done}/${job.total}` : "";
  showStatus($("rebuild-status"), `rebuild ${job.status}${counts}`, job.status === "failed");
  if (job.status === "failed") {
    $("rebuild-report").replaceChildren(el("p", { class: "error" }, job.error));
  } else if (job.result) {
    $("rebuild-report").replaceChildren(...report(job.result));
  }
}

function report(r) {
  const summary = `last rebuild: ${r.scanned} scanned, ${r.embedded} embedded, ${r.unchanged} unchanged, ` +
    `${r.removed} removed, ${r.skipped.length} skipped in ${r.seconds}s`;
  const out = [el("p", { id: "rebuild-summary" }, summary)];
  if (r.skipped.length) {
    out.push(el("ul", { class: "skipped" }, r.skipped.map((s) => el("li", {}, `${s.file}: ${s.reason}`))));
  }
  return out;
}
