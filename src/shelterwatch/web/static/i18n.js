/* Words on the resident's page and the case page, in Ukrainian and English.
 *
 * Every word comes from the message catalogue (`/static/catalogue.js`, made by the app from
 * shelterwatch/messages/catalogue.json): the page's own sentences are its `page.*` messages, and
 * the terms and counts the server also says (statuses, threats, roles, plurals) are shared, so the
 * page, the API and the notifications agree and no sentence has a second copy here. This file
 * only says which values each sentence takes. */
"use strict";

const PLACEHOLDER = /\{(\w+)(?::([\w.]+))?\}/g;

/* A count in the catalogue's plural form, by the language's own rules (Ukrainian has
 * one / few / many): 1 найближче укриття, 3 найближчі укриття, 5 найближчих укриттів. */
function counted(lang, name, n) {
  const forms = self.CATALOGUE.plural[name][lang];
  const rule = new Intl.PluralRules(lang === "uk" ? "uk-UA" : "en-GB").select(n);
  return (forms[rule] ?? forms.other).replace("{n}", String(n));
}

/* One section of the catalogue's terms in one language: {key: word}. */
function terms(lang, section) {
  const out = {};
  for (const [key, words] of Object.entries(self.CATALOGUE.term[section])) out[key] = words[lang];
  return out;
}

/* One catalogue message worded as the server words it: {name}, {name:term.SECTION} (a term),
 * {name:plural.NAME} (a count); a missing value is an error, never a blank on the page. */
function worded(lang, key, params = {}) {
  return self.CATALOGUE.message[key][lang].replace(PLACEHOLDER, (_, name, how) => {
    if (!(name in params)) throw new Error(`${key} needs ${name}`);
    const value = params[name];
    if (!how) return String(value);
    const [family, section] = how.split(".");
    if (family === "term") return self.CATALOGUE.term[section][value]?.[lang] ?? String(value);
    if (family === "plural") return counted(lang, section, Number(value));
    throw new Error(`${key}: unknown form ${how}`);
  });
}

function fmtMinutes(seconds, lang) {
  const min = Math.max(1, Math.ceil(seconds / 60));
  if (min < 60) return worded(lang, "page.minutes", {min});
  return worded(lang, "page.hoursMinutes", {h: Math.floor(min / 60), m: min % 60});
}

/* The page's words in one language: each plain `page.*` message as it is, and the sentences
 * that take values as functions of them. */
function pageWords(lang) {
  const w = (key, params) => worded(lang, "page." + key, params);
  const plain = {};
  for (const [key, text] of Object.entries(self.CATALOGUE.message)) {
    if (key.startsWith("page.") && !text[lang].match(PLACEHOLDER)) plain[key.slice(5)] = text[lang];
  }
  return {
    ...plain,
    threat: terms(lang, "threat"),
    alertType: terms(lang, "alert_type"),
    warning: (s) => w("warning", {time: fmtMinutes(s, lang)}),
    found: (n) => w("found", {n}),
    foundOffline: (n) => w("foundOffline", {n}),
    foundBusy: (n) => w("foundBusy", {n}),
    walk: (s) => w("walk", {time: fmtMinutes(s, lang)}),
    metres: (m) => m < 1000 ? w("metres", {m: Math.round(m)})
      : w("kilometres", {km: (m / 1000).toFixed(1)}),
    reportLabel: (name) => w("reportLabel", {name}),
    receipt: (id) => w("receipt", {id}),
    failed: (d) => w("failed", {d}),
    dataAge: (t, ago) => w("dataAge", {t, ago}),
    ago: (min) => min < 1 ? w("justNow") : w("ago", {time: fmtMinutes(min * 60, lang)}),
    offline: (age) => w("offline", {age}),
    kind: terms(lang, "report_kind"),
    bearingWords: (m, dir) => w("bearingWords", {m, dir}),
    compass: Object.values(terms(lang, "compass")),
    fromTap: (place) => w("fromTap", {place}),
    fromKeyboard: (place) => w("fromKeyboard", {place}),
    fromSearch: (label) => w("fromSearch", {label}),
    fromSign: (label) => w("fromSign", {label}),
    signUnknown: (id) => w("signUnknown", {id}),
    nearAddress: (a, m) => w("nearAddress", {a, m}),
    streetNow: (name) => w("streetNow", {name}),
    streetWas: (name) => w("streetWas", {name}),
    since: (time) => w("since", {time}),
    offlineAlert: (words, time, ago) => w("offlineAlert", {words, time, ago}),
    offlineNoAlert: (ago) => w("offlineNoAlert", {ago}),
    registryDate: (day) => w("registryDate", {day}),
    verifiedBy: (time, role) => w("verifiedBy", {time, role}),
    role: terms(lang, "role"),
    people: (n) => counted(lang, "people", n),
    shelterKind: terms(lang, "shelter_kind"),
    facility: terms(lang, "facility"),
    registrySource: terms(lang, "registry_source"),
    readiness: terms(lang, "readiness"),
    holding: (s) => w("holding", {s}),
    madeAt: (t) => w("madeAt", {t}),
    caseOpen: (id, meToo) => w("caseOpen", {id, reports: meToo + 1}),
    caseClosed: (id, how) => w("caseClosed", {id, how}),
    zoneNote: (zone) => w("zoneNote", {zone}),
    resolution: terms(lang, "resolution"),
    months: Object.values(terms(lang, "month")),
  };
}

const I18N = {uk: pageWords("uk"), en: pageWords("en")};
