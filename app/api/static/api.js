// The JSON endpoints, as any client calls them. Mutating calls carry X-API-Key when the server
// wants one: on a 401 the page asks for the key once (kept in this tab's sessionStorage) and
// retries; without a key the caller gets an ApiError saying "needs the API key".

const KEY = "img-recog-api-key";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export async function getJson(url) {
  return send("GET", url, undefined, false);
}

// body: FormData, a JSON-able value, or undefined
export async function mutate(method, url, body) {
  return send(method, url, body, true);
}

async function send(method, url, body, mutating) {
  let response = await request(method, url, body);
  if (response.status === 401 && mutating) {
    const key = await askForKey();
    if (key === null) {
      throw new ApiError(401, "needs the API key", null);
    }
    response = await request(method, url, body);
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      throw new ApiError(401, "needs the API key (the key given was not accepted)", null);
    }
  }
  return parse(response);
}

function request(method, url, body) {
  const headers = {};
  const key = sessionStorage.getItem(KEY);
  if (key) {
    headers["X-API-Key"] = key;
  }
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  return fetch(url, { method, headers, body: payload });
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = (body && (body.message || body.detail)) || text || response.statusText;
    throw new ApiError(response.status, String(message), body);
  }
  return body;
}

function askForKey() {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("api-key");
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const key = input.value.trim();
        if (dialog.returnValue === "ok" && key) {
          sessionStorage.setItem(KEY, key);
          resolve(key);
        } else {
          resolve(null);
        }
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}

export function thumbnailUrl(imageId, size = 256) {
  return `/images/${imageId}/thumbnail?size=${size}`;
}

// a small element builder: el("li", {class: "hit", "data-product-id": "x"}, child, "text")
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function showStatus(node, message, isError = false) {
  node.textContent = message;
  node.classList.toggle("error", isError);
}
