/* Address search on the phone, offline: a gazetteer of the registry's addresses (from the pack),
 * and, when a street map is built, of the extract's streets and house numbers.
 *
 * People type "хрещатик 22", "Khreshchatyk 22", "вул Антоновича 10б" or "Антоновіча": street
 * types are dropped, Latin is read as Ukrainian (the national transliteration, backwards),
 * letters people swap (и/і/ї/й, е/є, г/ґ, апострофи) compare equal, and the street is matched
 * within an edit distance that grows with its length, whatever the order of its words
 * ("Малиновського Маршала"). A renamed street answers to both names: the bundled table of Kyiv's
 * renamings and the extract's `old_name` tags join "просп. Перемоги" (the 2022 registry) and
 * "Берестейський проспект" (the signs today). The ranking then starts from the found address,
 * and the page says so. Loaded after app.js, whose state and choose() it uses.
 */
"use strict";

const Gazetteer = (() => {
  const TYPES = new Set(["м", "київ", "вул", "вулиця", "просп", "проспект", "пров", "провулок",
    "бул", "бульвар", "пл", "площа", "наб", "набережна", "шосе", "узвіз", "проїзд", "туп",
    "тупик", "алея", "ul", "vul", "vulytsia", "vulytsya", "prosp", "prospekt", "pr", "street",
    "st", "str", "avenue", "ave", "lane", "provulok", "bulvar", "ploshcha", "kyiv", "kiev"]);
  const LATIN = [["shch", "щ"], ["zgh", "зг"], ["zh", "ж"], ["kh", "х"], ["ts", "ц"],
    ["ch", "ч"], ["sh", "ш"], ["yu", "ю"], ["ya", "я"], ["ye", "є"], ["yi", "ї"], ["iu", "ю"],
    ["ia", "я"], ["ie", "є"], ["a", "а"], ["b", "б"], ["v", "в"], ["h", "г"], ["g", "г"],
    ["d", "д"], ["e", "е"], ["z", "з"], ["y", "и"], ["i", "і"], ["j", "й"], ["k", "к"],
    ["l", "л"], ["m", "м"], ["n", "н"], ["o", "о"], ["p", "п"], ["r", "р"], ["s", "с"],
    ["t", "т"], ["u", "у"], ["f", "ф"], ["w", "в"], ["x", "кс"], ["c", "к"], ["q", "к"]];
  // Letters people confuse fold together; the soft sign and apostrophes vanish.
  const FOLD = {"і": "и", "ї": "и", "й": "и", "ы": "и", "є": "е", "э": "е", "ё": "е",
                "ґ": "г", "ь": "", "ъ": "", "'": "", "’": "", "ʼ": "", "`": ""};

  function fromLatin(word) {
    if (!/[a-z]/.test(word)) return word;
    let out = "", i = 0;
    outer: while (i < word.length) {
      for (const [lat, cyr] of LATIN) {
        if (word.startsWith(lat, i)) { out += cyr; i += lat.length; continue outer; }
      }
      out += word[i++];
    }
    return out;
  }

  function fold(word) {
    return [...word].map((c) => (c in FOLD ? FOLD[c] : c)).join("");
  }

  /* Split an address or a query into (street words, house number). */
  function parse(text) {
    const words = text.toLowerCase().normalize("NFC").replace(/[.,;()"«»/\\-]/g, " ")
      .split(/\s+/).filter(Boolean);
    const street = [];
    let house = "";
    for (const w of words) {
      if (/^\d+[a-zа-яіїєґ]?$/.test(w) && street.length) { if (!house) house = w; continue; }
      if (/^[a-zа-яіїєґ]$/.test(w) && house && house.length < 5) { house += w; continue; }
      if (TYPES.has(w)) continue;
      street.push(fold(fromLatin(w)));
    }
    return {street: street.sort().join(" "), house: fold(fromLatin(house))};
  }

  function distance(a, b, limit) {
    if (Math.abs(a.length - b.length) > limit) return limit + 1;
    let prev = Array.from({length: b.length + 1}, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      let best = i;
      for (let j = 1; j <= b.length; j++) {
        row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        best = Math.min(best, row[j]);
      }
      if (best > limit) return limit + 1;
      prev = row;
    }
    return prev[b.length];
  }

  let index = null;  // street key -> [{house, label, lat, lon, aka?}]
  let indexedFrom = null;
  let renames = [];      // [[old name, new name]]: the bundled table and the extract's old_name
  let extract = null;    // the basemap's gazetteer: {streets, addresses}

  function add(key, entry) {
    if (!index.has(key)) index.set(key, []);
    index.get(key).push(entry);
  }

  function build(shelters) {
    index = new Map();
    for (const s of shelters) {
      if (!s.address) continue;
      const {street, house} = parse(s.address);
      if (street) add(street, {house, label: s.address, lat: s.lat, lon: s.lon});
    }
    if (extract) {
      for (const [name, number, lat, lon] of extract.addresses) {
        add(parse(name).street, {house: parse(`${name} ${number}`).house,
                                 label: `${name}, ${number}`, lat, lon});
      }
      for (const st of extract.streets) {
        add(parse(st.name).street, {house: "", label: st.name, lat: st.lat, lon: st.lon});
        if (st.en) add(parse(st.en).street, {house: "", label: st.name, lat: st.lat, lon: st.lon});
      }
    }
    // Each name of a renamed street finds the other's entries, saying what it is called.
    for (const [oldName, newName] of renames) {
      const o = parse(oldName).street, n = parse(newName).street;
      const oldEntries = index.get(o) || [], newEntries = index.get(n) || [];
      for (const e of oldEntries) add(n, {...e, aka: {now: newName}});
      for (const e of newEntries) add(o, {...e, aka: {was: oldName}});
    }
    indexedFrom = shelters;
  }

  function learn(table, gazetteer) {
    renames = [...(table || [])];
    extract = gazetteer || null;
    for (const st of (gazetteer && gazetteer.streets) || []) {
      for (const old of st.old) renames.push([old, st.name]);
    }
    indexedFrom = null;
  }

  /* Up to `limit` addresses for the query, the best first: [{label, lat, lon, exact}]. */
  function find(shelters, query, limit = 5) {
    if (indexedFrom !== shelters) build(shelters);
    const q = parse(query);
    if (!q.street) return [];
    const tolerance = Math.max(1, Math.floor(q.street.length / 4));
    const streets = [];
    for (const [street, entries] of index) {
      let d = distance(q.street, street, tolerance);
      // "Антоновича" finds "Антоновича" and also a street whose name is longer.
      if (d > tolerance && street.includes(q.street) && q.street.length >= 4) d = tolerance;
      // "Чекаленка" finds "Євгена Чикаленка": the query against as many of the street's words.
      if (d > tolerance) d = partDistance(q.street, street, tolerance) + 0.5;
      if (d <= tolerance) streets.push({street, entries, d});
    }
    streets.sort((a, b) => a.d - b.d || a.street.length - b.street.length);
    const out = [];
    for (const {entries} of streets) {
      const sorted = [...entries].sort((a, b) => houseRank(a.house, q.house)
                                               - houseRank(b.house, q.house));
      const e = sorted[0];  // the asked-for house, or the street's nearest number
      const label = e.aka ? `${e.label} (${e.aka.now ? t("streetNow", e.aka.now)
                                                      : t("streetWas", e.aka.was)})` : e.label;
      if (out.some((m) => m.lat === e.lat && m.lon === e.lon)) continue;
      out.push({label, lat: e.lat, lon: e.lon, exact: !!q.house && e.house === q.house});
      if (out.length >= limit) break;
    }
    return out;
  }

  function partDistance(query, street, limit) {
    const words = street.split(" "), n = query.split(" ").length;
    let best = limit + 1;
    for (let i = 0; i + n <= words.length && n < words.length; i++) {
      best = Math.min(best, distance(query, words.slice(i, i + n).join(" "), limit));
    }
    return best;
  }

  function houseRank(house, wanted) {
    if (!wanted) return parseInt(house, 10) || 0;
    if (house === wanted) return -1e9;
    return Math.abs((parseInt(house, 10) || 0) - (parseInt(wanted, 10) || 0));
  }

  return {find, parse, learn};
})();

/* The renaming table (bundled) and the extract's streets (when a basemap is built). */
(async () => {
  const get = (url) => fetch(url).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  const [table, gazetteer] = await Promise.all([
    get("/static/street-renames.json"),
    CONFIG.basemap ? get(CONFIG.basemap.gazetteer) : null]);
  Gazetteer.learn(table && table.renames, gazetteer);
  document.getElementById("search").dataset.gazetteer = gazetteer ? "extract" : "registry";
})();

function showMatches(matches) {
  const list = $("search-results");
  list.replaceChildren();
  list.hidden = false;
  if (!matches.length) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = t("searchNone");
    list.append(li);
    return;
  }
  for (const m of matches) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "match";
    b.textContent = m.label;
    b.addEventListener("click", () => pickMatch(m));
    li.append(b);
    list.append(li);
  }
}

function pickMatch(m) {
  $("search-results").hidden = true;
  $("search-input").value = m.label;
  map.setView([m.lat, m.lon], 16, {animate: false});
  choose(m.lat, m.lon, {how: "search", label: m.label});
}

$("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const matches = Gazetteer.find(state.shelters, $("search-input").value);
  // An exact street and house goes straight to the answer; otherwise the resident picks.
  if (matches.length && matches[0].exact) pickMatch(matches[0]);
  else showMatches(matches);
});
