// Progressive enhancement only: every form works without this file.
"use strict";

// Live Markdown preview: the server renders it with the same code that saves posts.
function setUpLivePreview(editor) {
  const textarea = editor.querySelector("textarea");
  const section = editor.querySelector(".preview");
  const target = editor.querySelector(".preview-body");
  const form = editor.closest("form");
  const tokenInput = form && form.querySelector("input[name=csrf_token]");
  if (!textarea || !target || !tokenInput) return;
  let timer = null;
  let inFlight = null;
  const refresh = async () => {
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    const body = new URLSearchParams({ body: textarea.value, csrf_token: tokenInput.value });
    try {
      const response = await fetch(editor.dataset.previewUrl, {
        method: "POST", body, signal: inFlight.signal, credentials: "same-origin",
      });
      if (!response.ok) return;
      target.innerHTML = await response.text(); // sanitized server-side by forum/markup.py
      section.classList.toggle("is-empty", textarea.value.trim() === "");
    } catch (error) {
      if (error.name !== "AbortError") console.warn("preview failed", error);
    }
  };
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
  });
}

// Destructive buttons ask first; without JS the POST itself is the confirmation step.
function setUpConfirmations() {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
}

// Code blocks and tables that scroll sideways must be reachable by keyboard (WCAG 2.1.1).
function makeScrollersFocusable() {
  document.querySelectorAll(".post-body pre, .post-body table, .table-scroll").forEach((el) => {
    if (el.scrollWidth > el.clientWidth && !el.hasAttribute("tabindex")) {
      el.setAttribute("tabindex", "0");
    }
  });
}

// Drafts survive a body too big to send (413): the server refused to read it, so it can't
// hand the text back the way it does for every other refusal. On submit the browser keeps the
// title and text of a form with a body, per form action, in this tab only (sessionStorage).
// The 413 page names the refused action (data-refused-action) and marks that draft kept; the
// form page puts it back when it loads again. Any other page load means the server answered
// with its own page (saved, or the text handed back in the form), so other drafts are dropped.
const DRAFT_PREFIX = "showboard-draft:";

function draftKey(form) {
  return DRAFT_PREFIX + new URL(form.action, window.location.href).pathname;
}

function readDraft(key) {
  try {
    return JSON.parse(window.sessionStorage.getItem(key) || "null");
  } catch (error) {
    return null;
  }
}

function keepDraftsOnSubmit() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.querySelector("textarea[name=body]")) return;
    const fields = {};
    form.querySelectorAll("input[name=title], textarea[name=body]").forEach((field) => {
      fields[field.name] = field.value;
    });
    try {
      window.sessionStorage.setItem(draftKey(form), JSON.stringify({ fields, kept: false }));
    } catch (error) {
      // Storage full or disabled: the form still works, as without this file.
    }
  });
}

function settleDrafts() {
  let storage;
  try {
    storage = window.sessionStorage;
  } catch (error) {
    return;
  }
  const refused = document.querySelector("[data-refused-action]");
  const refusedKey = refused && DRAFT_PREFIX + refused.dataset.refusedAction;
  for (let i = storage.length - 1; i >= 0; i -= 1) {
    const key = storage.key(i);
    if (!key || !key.startsWith(DRAFT_PREFIX)) continue;
    const draft = readDraft(key);
    if (draft && key === refusedKey) {
      draft.kept = true;
      storage.setItem(key, JSON.stringify(draft));
    } else if (!draft || !draft.kept) {
      storage.removeItem(key);
    }
  }
  if (refused) return;
  document.querySelectorAll("form").forEach((form) => {
    const key = draftKey(form);
    const draft = readDraft(key);
    if (!draft || !draft.kept) return;
    Object.entries(draft.fields).forEach(([name, value]) => {
      const field = form.elements.namedItem(name);
      if (field && "value" in field) field.value = value;
    });
    storage.removeItem(key);
  });
}

// A withheld spoiler (its text is not in the page) is fetched when the reader asks for it, and
// the post's body replaced in place; without JavaScript the link opens the post's reveal page.
function setUpSpoilerReveals() {
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-reveal], .spoiler-withheld a");
    if (!link) return;
    const post = link.closest(".post, .activity");
    const body = post && (post.querySelector(".post-body") || post.querySelector(".post-withheld"));
    if (!body) return;
    event.preventDefault();
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("partial", "1");
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const revealed = holder.firstElementChild;
      if (!revealed) throw new Error("empty");
      revealed.tabIndex = -1;
      // The reader asked for this episode's spoilers: open them rather than show one more
      // box to click. Its other spoilers stay as they are, closed until clicked.
      const withheld = link.closest(".spoiler-withheld");
      const code = withheld && withheld.dataset.episode;
      if (code) {
        revealed.querySelectorAll(".spoiler[data-episode]").forEach((spoiler) => {
          const toggle = spoiler.querySelector(".spoiler-toggle");
          if (toggle && spoiler.dataset.episode === code) toggle.checked = true;
        });
      }
      body.replaceWith(revealed);
      revealed.focus();
    } catch (error) {
      window.location.href = link.href;
    }
  });
}

// Suggestions under the header's search box: threads and boards as the fan types, from
// /search/suggest (forum/views/search.py), asked for 250 ms after the last key, and last a
// "Search for “…”" option that runs the full search. The box is an ARIA 1.2 combobox: arrows
// move through the list, Enter opens the chosen one (or searches when none is chosen), Escape
// closes it. A fetch that failed (offline, 429) is asked again at the next key, even for the
// same text. Without this file the box is a plain search form.
const SUGGEST_DELAY = 250;

function setUpSearchSuggestions(input) {
  const form = input.closest("form");
  if (!form) return;
  const list = document.createElement("ul");
  list.id = `${input.id}-suggestions`;
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  // A polite live region for "3 suggestions", without role="status": pages keep one status
  // (their flash message), which tests and assistive tech look up by that role.
  const status = document.createElement("p");
  status.className = "visually-hidden suggest-status";
  status.setAttribute("aria-live", "polite");
  form.append(list, status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("autocomplete", "off");

  let timer = null;
  let inFlight = null;
  let active = -1;
  let asked = ""; // the text last asked about (null: ask again, the last fetch failed)
  const options = () => [...list.querySelectorAll("[role=option]")];

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const choose = (index) => {
    const all = options();
    all.forEach((option, n) => option.setAttribute("aria-selected", String(n === index)));
    active = index;
    if (index >= 0 && all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const option = (n, kind) => {
    const item = document.createElement("li");
    item.id = `${list.id}-${n}`;
    item.className = `suggest-option suggest-${kind}`;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    return item;
  };
  const show = (suggestions, query) => {
    list.replaceChildren();
    suggestions.forEach((item, n) => {
      const shown = option(n, item.kind);
      shown.dataset.url = item.url;
      const label = document.createElement("span");
      label.className = "suggest-label";
      label.textContent = item.label; // text, never HTML: titles are the fans' words
      const detail = document.createElement("span");
      detail.className = "suggest-detail";
      detail.textContent = item.detail;
      shown.append(label, detail);
      list.append(shown);
    });
    if (suggestions.length) {
      // Last, the search itself: a fan who arrowed into the list can still get every result.
      const search = option(suggestions.length, "search");
      search.dataset.search = "1";
      const label = document.createElement("span");
      label.className = "suggest-label";
      label.textContent = `Search for “${query}”`;
      search.append(label);
      list.append(search);
    }
    active = -1;
    if (suggestions.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
    status.textContent = suggestions.length
      ? `${suggestions.length} suggestion${suggestions.length === 1 ? "" : "s"}, use the arrow keys to choose`
      : "";
  };
  const fetchSuggestions = async () => {
    const query = input.value.trim();
    if (query === asked) return;
    asked = query;
    if (inFlight) inFlight.abort();
    if (query.length < 2) {
      show([], query);
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    const url = new URL(form.action, window.location.href);
    url.pathname = url.pathname.replace(/\/?$/, "/suggest");
    url.search = new URLSearchParams({ q: query }).toString();
    // Not answered: forget it was asked, so the next key asks again, even for the same text.
    const failed = () => {
      if (asked === query) asked = null;
    };
    try {
      const response = await fetch(url, { signal: controller.signal, credentials: "same-origin" });
      if (!response.ok) {
        failed();
        return;
      }
      const data = await response.json();
      if (input.value.trim() === query && document.activeElement === input) {
        show(data.suggestions || [], query);
      }
    } catch (error) {
      if (error.name !== "AbortError") {
        failed();
        console.warn("suggestions failed", error);
      }
    }
  };
  const go = (chosen) => {
    if (!chosen) return;
    if (chosen.dataset.search) {
      close();
      form.requestSubmit();
    } else if (chosen.dataset.url) {
      window.location.assign(chosen.dataset.url);
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, SUGGEST_DELAY);
  });
  // Any key counts as "the next keystroke" for a failed fetch: End or an arrow asks again.
  input.addEventListener("keyup", (event) => {
    if (asked !== null || event.key === "Enter" || event.key === "Escape") return;
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, SUGGEST_DELAY);
  });
  input.addEventListener("keydown", (event) => {
    const all = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) {
        if (!all.length) return;
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      // From the box, down goes to the first option and up to the last; past either end,
      // back to the box (the fan's own text).
      let next = active + step;
      if (active === -1 && step === -1) next = all.length - 1;
      if (next >= all.length || next < -1) next = -1;
      choose(next);
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();
      go(all[active]);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  // mousedown, not click: a click would come after the box's blur has closed the list.
  list.addEventListener("mousedown", (event) => {
    const picked = event.target.closest("[role=option]");
    if (!picked) return;
    event.preventDefault();
    go(picked);
  });
  input.addEventListener("blur", () => close());
  input.addEventListener("focus", () => {
    if (options().length && input.value.trim() === asked) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSpoilerReveals();
  settleDrafts();
  keepDraftsOnSubmit();
  document.querySelectorAll(".editor").forEach(setUpLivePreview);
  setUpConfirmations();
  makeScrollersFocusable();
  const headerSearch = document.getElementById("header-q");
  if (headerSearch) setUpSearchSuggestions(headerSearch);
});
