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

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".editor").forEach(setUpLivePreview);
  setUpConfirmations();
  makeScrollersFocusable();
});
