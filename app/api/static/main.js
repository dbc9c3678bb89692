// Wires the three parts of the page together. Every call goes to the documented JSON API.
import { loadGallery, initGallery } from "./gallery.js";
import { initIndex, loadLastReport, loadStats } from "./index-panel.js";
import { initSearch, messageOf, setTextSearch } from "./search.js";
import { showStatus } from "./api.js";

async function refresh() {
  try {
    const stats = await loadStats();
    setTextSearch(stats.text_search);
  } catch (error) {
    setTextSearch(false);
    showStatus(document.getElementById("rebuild-status"), messageOf(error), true);
  }
  await loadGallery();
}

initSearch();
initGallery(refresh);
initIndex(refresh);
refresh();
loadLastReport().catch(() => {});
