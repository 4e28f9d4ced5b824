/* One language at a time on the operators' and planners' pages, as on the resident's page.
 *
 * The choice is the resident page's own (`shelterwatch.lang` in this browser), else the
 * browser's first language (what it sends as Accept-Language): English for an English one,
 * Ukrainian otherwise; `?lang=uk|en` overrides both, and the switch (#lang) flips and keeps it.
 * Fixed words are elements carrying data-uk / data-en (their text) and data-uk-label /
 * data-en-label (their accessible name); a page's script words the rest with T(uk, en) and
 * renders again on the document's "langchange" event. */
"use strict";

const LANG = {
  current: (() => {
    const asked = new URLSearchParams(location.search).get("lang");
    if (asked === "uk" || asked === "en") return asked;
    const kept = localStorage.getItem("shelterwatch.lang");
    if (kept === "uk" || kept === "en") return kept;
    const first = (navigator.languages && navigator.languages[0]) || navigator.language || "";
    return /^en\b/i.test(first) ? "en" : "uk";
  })(),
};

function T(uk, en) {
  return LANG.current === "en" ? en : uk;
}

function applyLanguage() {
  document.documentElement.lang = LANG.current;
  for (const el of document.querySelectorAll("[data-uk]")) {
    el.textContent = LANG.current === "en" ? el.dataset.en : el.dataset.uk;
  }
  for (const el of document.querySelectorAll("[data-uk-label]")) {
    el.setAttribute("aria-label", LANG.current === "en" ? el.dataset.enLabel : el.dataset.ukLabel);
  }
  const button = document.getElementById("lang");
  if (button) {
    // The switch names the other language, in that language, as the resident page's does.
    button.textContent = T("EN", "УКР");
    button.setAttribute("aria-label", T("EN — English", "УКР — українська"));
    button.lang = T("en", "uk");
  }
  document.dispatchEvent(new Event("langchange"));
}

document.getElementById("lang")?.addEventListener("click", () => {
  LANG.current = LANG.current === "uk" ? "en" : "uk";
  localStorage.setItem("shelterwatch.lang", LANG.current);
  applyLanguage();
});
applyLanguage();
